# prop50 at the quickstart scale (recipe: config/methods/prop50.py).
include("common.py")
include("../methods/prop50.py")
