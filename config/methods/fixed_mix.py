# Fixed-proportion mix: one cosine stage at 50/50 HRL/LRL for as many tokens as the others,
# so the LRL repeats for more epochs as the HRL budget grows.
stages = [{"name": "mix", "lr": "cosine", "total": budget[hrl] + budget[lrl], "mix": {hrl: 0.5, lrl: 0.5}}]
