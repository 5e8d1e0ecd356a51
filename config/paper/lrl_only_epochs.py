# lrl_only_epochs at the paper scale (recipe: config/methods/lrl_only_epochs.py).
include("common.py")
include("../methods/lrl_only_epochs.py")
