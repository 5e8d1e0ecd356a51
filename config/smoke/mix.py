# mix at the smoke scale (recipe: config/methods/mix.py).
include("common.py")
include("../methods/mix.py")
