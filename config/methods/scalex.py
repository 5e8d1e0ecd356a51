# A method is a stage recipe written in terms of `budget`, `hrl` and `lrl`; a scale
# (config/<scale>/common.py) sets the model, data and budget before including it.
#
# ScaleX: the high-resource language alone at a constant LR, then high + low-resource under
# cosine decay. Stage 2 mixes 1:1, replaying as much HRL as there is LRL; together the two
# stages read each budget exactly once, as the joint baseline does.
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {hrl: budget[hrl] - budget[lrl]}},
    {"name": "mix", "lr": "cosine", "tokens": {hrl: budget[lrl], lrl: budget[lrl]}},
]
