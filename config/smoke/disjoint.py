# The smoke runs on the disjoint-tokenizer data (disjoint_data.py): everything else held equal
# but the output layer, which has a row per language per token (FLOPs differ accordingly).
include("common.py")
data_dir = "data/smoke-disjoint"
vocab_size = 2 * vocab_size
