# Joint baseline: one cosine stage over both languages at their natural proportions
# (each budget read once).
stages = [{"name": "joint", "lr": "cosine", "tokens": {hrl: budget[hrl], lrl: budget[lrl]}}]
