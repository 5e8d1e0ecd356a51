# mix with three languages (recipe: config/methods/multilingual_mix.py).
include("common.py")
include("../../methods/multilingual_mix.py")
