# scalex_wsd at the paper scale (recipe: config/methods/scalex_wsd.py).
include("common.py")
include("../methods/scalex_wsd.py")
