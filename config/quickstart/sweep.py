# The experiments at the quickstart scale (sweep.py): every one of them, at 3 seeds, on 2 CPU
# cores (time: README). Four English sizes: scaling is judged over the range and its last doubling.
sizes = [100_000, 200_000, 400_000, 800_000]
one = [400_000]
ablate = [200_000, 400_000]
transform = [100_000, 800_000]
proportion = [100_000, 800_000]
multilingual = [400_000]
seeds = [1337, 1338, 1339]
epochs = [1, 2, 4, 8, 16, 32]
lrl_epochs = [1, 2, 4, 8]  # the lrl-epochs experiment ...
lrl_epochs_at = [200_000]  # ... at this English size
