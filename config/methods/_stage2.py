# Stage 2 of the ScaleX-like recipes (scalex*, mix_scalex_schedule), one definition for all so
# that they share stage lengths. Our reading of the paper (a documented choice, not a quote):
# stage 2 is where the LRL is read, once, mixed with HRL at LRL share `stage2_lrl_share`
# (default 0.5, i.e. 1:1); so stage 2 is budget[lrl] / share tokens long: a fixed token count
# whatever the HRL budget, which makes it 67% of the run at 2x HRL and 8% at 24x.
# `stage2_tokens` sets the length directly instead (the LRL then repeats, or is cut, to fill
# share x length). scalex_s2short / scalex_s2long ablate the length once (README).
require(0 < stage2_lrl_share < 1, f"stage2_lrl_share: the LRL share of stage 2, strictly between 0 and 1, got {stage2_lrl_share!r}")
_s2 = stage2_tokens or round(budget[lrl] / stage2_lrl_share)
_s2_lrl = round(_s2 * stage2_lrl_share)
_s2_hrl = _s2 - _s2_lrl
require(budget[hrl] > _s2_hrl,
        f"budget.{hrl}: ScaleX's stage 2 reads {_s2_hrl:,} {hrl} tokens, so budget.{hrl} must be larger "
        f"(got {budget[hrl]:,}); raise budget.{hrl}, or raise stage2_lrl_share / lower stage2_tokens")
_s1 = budget[hrl] - _s2_hrl  # stage 1: the rest of the HRL budget
