# LR ablation: ScaleX's data order under warmup-stable-decay: the LR stays at lr_max through
# stage 1 and the first half of stage 2, then decays linearly to lr_min over stage 2's second
# half (a short linear decay instead of scalex's cosine over the whole of stage 2).
include("_stage2.py")
_half = round(0.5 * _s2)
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {hrl: _s1}},
    {"name": "mix", "lr": "constant", "total": _half, "mix": {hrl: _s2_hrl / _s2, lrl: _s2_lrl / _s2}},
    {"name": "decay", "lr": "linear", "total": _s2 - _half, "mix": {hrl: _s2_hrl / _s2, lrl: _s2_lrl / _s2}},
]
