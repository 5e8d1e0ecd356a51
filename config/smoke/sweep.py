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
