# Low-resource only: the LRL alone, repeated for as many tokens as the other methods train on
# (budget[hrl] + budget[lrl], so several epochs): what the high-resource data has to beat.
stages = [{"name": "lrl", "lr": "cosine", "tokens": {lrl: budget[hrl] + budget[lrl]}}]
