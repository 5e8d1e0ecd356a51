# Sequential HRL -> LRL: the HRL alone at a constant LR, then the LRL alone under cosine.
# ScaleX's schedule without the stage-2 mixture, so the pair isolates what the mixture does.
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {hrl: budget[hrl]}},
    {"name": "lrl", "lr": "cosine", "tokens": {lrl: budget[lrl]}},
]
