# scalex at the paper scale (recipe: config/methods/scalex.py).
include("common.py")
include("../methods/scalex.py")
