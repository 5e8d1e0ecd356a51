# scalex_wsd at the quickstart scale (recipe: config/methods/scalex_wsd.py).
include("common.py")
include("../methods/scalex_wsd.py")
