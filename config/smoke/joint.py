# joint at the smoke scale (recipe: config/methods/joint.py).
include("common.py")
include("../methods/joint.py")
