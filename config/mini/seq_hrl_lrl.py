# seq_hrl_lrl at the mini scale (recipe: config/methods/seq_hrl_lrl.py).
include("common.py")
include("../methods/seq_hrl_lrl.py")
