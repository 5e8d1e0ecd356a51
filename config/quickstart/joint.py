# joint at the quickstart scale (recipe: config/methods/joint.py).
include("common.py")
include("../methods/joint.py")
