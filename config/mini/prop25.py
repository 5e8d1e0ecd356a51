# prop25 at the mini scale (recipe: config/methods/prop25.py).
include("common.py")
include("../methods/prop25.py")
