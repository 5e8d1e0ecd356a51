# Low-resource only for a fixed 4 epochs of its budget, whatever the HRL budget (the LRL-only
# run as a practitioner would stop it; repeating data beyond ~4 epochs pays less and less,
# Muennighoff et al. 2023). Not compute-matched: lrl_only is that line.
stages = [{"name": "lrl", "lr": "cosine", "tokens": {lrl: 4 * budget[lrl]}}]
