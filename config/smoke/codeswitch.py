# The codeswitch runs at the smoke scale: the smoke settings on the data with the code-switched
# stream (codeswitch_data.py). The recipe (train.py: codeswitch) gives that stream the HRL budget.
include("common.py")
data_dir = "data/smoke-codeswitch"
