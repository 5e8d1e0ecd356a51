# scalex_wsd at the smoke scale (recipe: config/methods/scalex_wsd.py).
include("common.py")
include("../methods/scalex_wsd.py")
