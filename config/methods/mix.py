# mix: the joint baseline (one cosine stage over both languages at natural proportions, each
# budget read once) under the experiments' name for it.
include("joint.py")
