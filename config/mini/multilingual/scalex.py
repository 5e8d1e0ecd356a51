# scalex with three languages (recipe: config/methods/multilingual_scalex.py).
include("common.py")
include("../../methods/multilingual_scalex.py")
