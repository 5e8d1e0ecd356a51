# LR ablation: ScaleX's data order, but stage 1 decays (cosine, lr_max -> lr_min) as a run of
# its own would, and stage 2 is re-warmed: linear back to lr_max over its first 10%, then
# cosine to lr_min. Against scalex (constant stage 1) this isolates the schedule.
include("_stage2.py")
_w = round(0.1 * _s2)
stages = [
    {"name": "hrl", "lr": "cosine", "tokens": {hrl: _s1}},
    {"name": "rewarm", "lr": "linear", "lr_to": lr_max, "total": _w, "mix": {hrl: _s2_hrl / _s2, lrl: _s2_lrl / _s2}},
    {"name": "mix", "lr": "cosine", "lr_from": lr_max, "total": _s2 - _w, "mix": {hrl: _s2_hrl / _s2, lrl: _s2_lrl / _s2}},
]
