# fixed_mix at the smoke scale (recipe: config/methods/fixed_mix.py).
include("common.py")
include("../methods/fixed_mix.py")
