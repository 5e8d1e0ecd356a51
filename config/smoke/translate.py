# The translate runs at the smoke scale: the smoke settings on the data with the translated
# stream (translate_data.py). The recipe (train.py: translate) gives that stream the HRL budget.
include("common.py")
data_dir = "data/smoke-translate"
