# codeswitch at the mini scale (recipe: config/methods/codeswitch.py), on the data with the
# code-switched stream (codeswitch_data.py); its budget follows the English one.
include("common.py")
data_dir = "data/mini-codeswitch"
budget = dict(budget, en_codeswitch=budget["en"])
include("../methods/codeswitch.py")
