# The codeswitch runs at the quickstart scale: the quickstart settings on the data with the code-switched
# stream (translate_data.py). The recipe (train.py: codeswitch) gives that stream the HRL budget.
include("common.py")
data_dir = "data/transform"
