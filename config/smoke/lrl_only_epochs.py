# lrl_only_epochs at the smoke scale (recipe: config/methods/lrl_only_epochs.py).
include("common.py")
include("../methods/lrl_only_epochs.py")
