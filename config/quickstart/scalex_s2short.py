# scalex_s2short at the quickstart scale (recipe: config/methods/scalex_s2short.py).
include("common.py")
include("../methods/scalex_s2short.py")
