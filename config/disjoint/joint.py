# joint on disjoint-tokenizer data (recipe: config/methods/joint.py).
include("common.py")
include("../methods/joint.py")
