# The experiments at the smoke scale (sweep.py): seconds per run on a CPU; CI runs one of them.
sizes = [60_000, 120_000]
one = [120_000]
ablate = [60_000, 120_000]
transform = [60_000, 120_000]
proportion = [60_000, 120_000]
multilingual = [120_000]
seeds = [1337]
epochs = [1, 2, 4]  # the best-LRL-only sweep, kept short
lrl_epochs = [1, 2]
lrl_epochs_at = [120_000]
# The measurement protocol in miniature (docs/experiments.md), so CI runs every part of it.
tune_at = [120_000]
tune_epochs = [1]  # joint keeps its plain settings here; scalex tries two stage-2 fractions
tune_fractions = [0.25, 0.5]
hrl_unique = 60_000
control = [120_000]
reference = [10_000]
experiments = ["lrl-only", "mix", "scalex", "tune", "tuned", "control", "reference"]
