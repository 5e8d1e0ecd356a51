# The translate runs at the paper scale: the paper settings on the data with the translated
# stream (translate_data.py). The recipe (train.py: translate) gives that stream the HRL budget.
include("common.py")
data_dir = "data/paper-translate"
