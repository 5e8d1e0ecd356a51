# The experiments at the quickstart scale (sweep.py): the CPU sizes of make quickstart.
# Costs measured on 2 CPU cores are in the README's experiment table.
sizes = [200_000, 800_000]
one = [800_000]
ablate = [200_000, 800_000]
transform = [200_000, 800_000]
proportion = [200_000, 800_000]
multilingual = [800_000]
seeds = [1337]
