# Joint baseline with three languages: one cosine stage at natural proportions.
data_dir = "data/multilingual"
hrl, lrl = "en", "zh"
budget = {"en": 1_200_000, "zh": 150_000, "ja": 150_000}
model = "tiny"
stages = [{"name": "joint", "lr": "cosine", "tokens": dict(budget)}]
