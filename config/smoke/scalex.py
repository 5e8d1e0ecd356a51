# scalex at the smoke scale (recipe: config/methods/scalex.py).
include("common.py")
include("../methods/scalex.py")
