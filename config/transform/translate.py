# translate at the quickstart scale (recipe: config/methods/translate.py).
include("common.py")
include("../methods/translate.py")
