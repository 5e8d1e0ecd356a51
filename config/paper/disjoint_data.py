# The paper data with the disjoint tokenizer (no token id shared between the languages).
include("data.py")
data_dir = "data/paper-disjoint"
tokenizer = "disjoint"
