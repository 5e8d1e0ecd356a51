# lrl_only at the paper scale (recipe: config/methods/lrl_only.py).
include("common.py")
include("../methods/lrl_only.py")
