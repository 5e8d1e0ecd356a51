# The translate runs at the quickstart scale: the quickstart settings on the data with the translated
# stream (translate_data.py). The recipe (train.py: translate) gives that stream the HRL budget.
include("common.py")
data_dir = "data/transform"
