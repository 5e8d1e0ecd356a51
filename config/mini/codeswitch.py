# The codeswitch runs at the mini scale: the mini settings on the data with the code-switched
# stream (codeswitch_data.py). The recipe (train.py: codeswitch) gives that stream the HRL budget.
include("common.py")
data_dir = "data/mini-codeswitch"
