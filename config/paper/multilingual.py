# The paper runs with a second LRL, Japanese, at the Chinese budget (multilingual_data.py).
include("common.py")
data_dir = "data/paper-multilingual"
budget = dict(budget, ja=budget["zh"])
