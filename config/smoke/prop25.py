# prop25 at the smoke scale (recipe: config/methods/prop25.py).
include("common.py")
include("../methods/prop25.py")
