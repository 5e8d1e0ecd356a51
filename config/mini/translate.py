# The translate runs at the mini scale: the mini settings on the data with the translated
# stream (translate_data.py). The recipe (train.py: translate) gives that stream the HRL budget.
include("common.py")
data_dir = "data/mini-translate"
