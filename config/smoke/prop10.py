# prop10 at the smoke scale (recipe: config/methods/prop10.py).
include("common.py")
include("../methods/prop10.py")
