# Proportion: one cosine stage over HRL + LRL with the LRL at 10% of the tokens, for as many
# tokens as the other methods (budget[hrl] + budget[lrl]); the LRL repeats (or the HRL is cut)
# as the share demands.
stages = [{"name": "mix", "lr": "cosine", "total": budget[hrl] + budget[lrl], "mix": {hrl: 1 - 10 / 100, lrl: 10 / 100}}]
