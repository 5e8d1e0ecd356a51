# The quickstart data with the disjoint tokenizer: the same BPE segmentation, but no token id
# shared between English and Chinese (the shared-token ablation; README: tokenizer variants).
include("data.py")
data_dir = "data/quickstart-disjoint"
tokenizer = "disjoint"
