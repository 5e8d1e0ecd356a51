# Translation baseline: the LRL plus the HRL budget machine-translated into the LRL (the
# stream LRL_translated, made from the HRL's documents in order), in one cosine stage at
# natural proportions. As many tokens as the other methods: budget[hrl] + budget[lrl].
stages = [{"name": "translated", "lr": "cosine", "tokens": {lrl + "_translated": budget[hrl], lrl: budget[lrl]}}]
