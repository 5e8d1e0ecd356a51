# Sequential LRL -> HRL: the LRL first at a constant LR, then the HRL under cosine.
stages = [
    {"name": "lrl", "lr": "constant", "tokens": {lrl: budget[lrl]}},
    {"name": "hrl", "lr": "cosine", "tokens": {hrl: budget[hrl]}},
]
