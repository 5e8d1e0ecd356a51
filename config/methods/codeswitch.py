# Code-switching baseline: the HRL with a share of its words replaced by LRL translations
# (the stream HRL_codeswitch) plus the LRL, in one cosine stage at natural proportions.
stages = [{"name": "codeswitch", "lr": "cosine", "tokens": {hrl + "_codeswitch": budget[hrl], lrl: budget[lrl]}}]
