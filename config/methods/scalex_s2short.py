# The stage-2 length ablation, short side: ScaleX with stage 2 at LRL share 0.8, so it is
# 1.25 x budget[lrl] long instead of 2 x. Each budget is still read once and the token total
# is unchanged: only how long (and how LRL-dense) the mixture phase is moves.
stage2_lrl_share = 0.8
include("scalex.py")
