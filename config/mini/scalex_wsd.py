# scalex_wsd at the mini scale (recipe: config/methods/scalex_wsd.py).
include("common.py")
include("../methods/scalex_wsd.py")
