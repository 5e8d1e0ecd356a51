# prop10 at the paper scale (recipe: config/methods/prop10.py).
include("common.py")
include("../methods/prop10.py")
