# A method is a stage recipe written in terms of `budget`, `hrl` and `lrl`; a scale
# (config/<scale>/common.py) sets the model, data and budget before including it.
#
# ScaleX: the high-resource language alone at a constant LR, then high + low-resource under
# cosine decay. Stage 2's HRL is *fresh* text: the sampler's HRL cursor carries on from where
# stage 1 stopped, so no HRL window is read twice; together the two stages read each budget
# exactly once, as mix does. Stage 2's length and mixture: _stage2.py.
include("_stage2.py")
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {hrl: _s1}},
    {"name": "mix", "lr": "cosine", "tokens": {hrl: _s2_hrl, lrl: _s2_lrl}},
]
