# The quickstart runs with a second LRL, Japanese, at the Chinese budget (multilingual_data.py).
include("common.py")
data_dir = "data/multilingual"
budget = dict(budget, ja=budget["zh"])
