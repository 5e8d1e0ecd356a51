# seq_lrl_hrl at the paper scale (recipe: config/methods/seq_lrl_hrl.py).
include("common.py")
include("../methods/seq_lrl_hrl.py")
