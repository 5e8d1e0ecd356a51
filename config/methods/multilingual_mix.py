# mix with several languages: one cosine stage over every budget language at natural proportions.
stages = [{"name": "joint", "lr": "cosine", "tokens": dict(budget)}]
