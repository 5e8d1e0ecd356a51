# codeswitch at the quickstart scale (recipe: config/methods/codeswitch.py).
include("common.py")
include("../methods/codeswitch.py")
