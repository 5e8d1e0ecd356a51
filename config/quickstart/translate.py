# translate at the quickstart scale (recipe: config/methods/translate.py), on the data with the
# translated stream (translate_data.py); its budget follows the English one.
include("common.py")
data_dir = "data/transform"
budget = dict(budget, zh_translated=budget["en"])
include("../methods/translate.py")
