# mix on disjoint-tokenizer data (recipe: config/methods/mix.py).
include("common.py")
include("../../methods/mix.py")
