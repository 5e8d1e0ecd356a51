# seq_hrl_lrl at the paper scale (recipe: config/methods/seq_hrl_lrl.py).
include("common.py")
include("../methods/seq_hrl_lrl.py")
