# The quickstart runs on the disjoint-tokenizer data: everything else held equal.
include("../quickstart/common.py")
data_dir = "data/quickstart-disjoint"
