# lrl_only_epochs at the mini scale (recipe: config/methods/lrl_only_epochs.py).
include("common.py")
include("../methods/lrl_only_epochs.py")
