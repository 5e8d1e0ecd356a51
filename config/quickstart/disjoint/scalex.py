# scalex on disjoint-tokenizer data (recipe: config/methods/scalex.py).
include("common.py")
include("../../methods/scalex.py")
