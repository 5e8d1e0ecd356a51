# Order vs schedule: the joint mix (both languages at natural proportions throughout) under
# ScaleX's schedule: constant LR for as many tokens as ScaleX's stage 1, then cosine for as
# many as its stage 2. Against mix only the schedule moves; against scalex only the order.
include("_stage2.py")
_nat = {hrl: budget[hrl] / (budget[hrl] + budget[lrl]), lrl: budget[lrl] / (budget[hrl] + budget[lrl])}
stages = [
    {"name": "stable", "lr": "constant", "total": _s1, "mix": _nat},
    {"name": "decay", "lr": "cosine", "total": _s2, "mix": _nat},
]
