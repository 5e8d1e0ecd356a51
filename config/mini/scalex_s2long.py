# scalex_s2long at the mini scale (recipe: config/methods/scalex_s2long.py).
include("common.py")
include("../methods/scalex_s2long.py")
