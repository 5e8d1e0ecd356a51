# scalex_cosine at the smoke scale (recipe: config/methods/scalex_cosine.py).
include("common.py")
include("../methods/scalex_cosine.py")
