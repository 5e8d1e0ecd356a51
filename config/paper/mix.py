# mix at the paper scale (recipe: config/methods/mix.py).
include("common.py")
include("../methods/mix.py")
