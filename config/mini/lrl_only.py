# lrl_only at the mini scale (recipe: config/methods/lrl_only.py).
include("common.py")
include("../methods/lrl_only.py")
