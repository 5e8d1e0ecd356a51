# The stage-2 length ablation, long side: stage 2 at LRL share 0.25, so 4 x budget[lrl] long
# (needs budget[hrl] > 3 x budget[lrl]). Each budget read once; the token total is unchanged.
stage2_lrl_share = 0.25
include("scalex.py")
