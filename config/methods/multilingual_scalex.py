# ScaleX with several low-resource languages (every budget language but hrl and synthetic
# streams): the HRL alone at a constant LR, then all languages under cosine. Stage 2 reads each
# LRL budget once and as much fresh HRL as the LRLs together (share 0.5, as scalex).
_lrls = [l for l in budget if l != hrl]
_s2_hrl = sum(budget[l] for l in _lrls)
require(budget[hrl] > _s2_hrl, f"budget.{hrl}: ScaleX's stage 2 reads {_s2_hrl:,} {hrl} tokens, so budget.{hrl} must be larger (got {budget[hrl]:,})")
stages = [
    {"name": "hrl", "lr": "constant", "tokens": {hrl: budget[hrl] - _s2_hrl}},
    {"name": "mix", "lr": "cosine", "tokens": {hrl: _s2_hrl, **{l: budget[l] for l in _lrls}}},
]
