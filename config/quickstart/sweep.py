# The experiments at the quickstart scale (sweep.py): the measurement protocol of
# docs/experiments.md on 2 CPU cores (time: README). Every run is scored on val (choices only),
# test and the out-of-domain text (verdicts). Four English sizes, 2.5x to 20x the 20k unique
# Chinese tokens: scaling is judged over the range and its last doubling.
sizes = [50_000, 100_000, 200_000, 400_000]
one = [400_000]
ablate = [200_000]
transform = [50_000, 400_000]
proportion = [50_000, 400_000]
multilingual = [200_000]
seeds = [1337, 1338, 1339, 1340, 1341]
# Equal tuning: LRL-only, joint and scalex all pick lrl_epochs from this grid on val (LRL-only
# at the 20k Chinese budget, the bilingual recipes at tune_at; scalex also its stage-2 fraction).
epochs = [1, 2, 4, 8, 16]
tune_at = [100_000]
tune_epochs = [1, 2, 4, 8, 16]
tune_fractions = [0.1, 0.5]
# The repeated-English control: 50k unique English tokens read to each budget.
hrl_unique = 50_000
control = [100_000, 200_000, 400_000]
# The LRL-only reference curve of the effective-data multiplier: 20k (the budget, above) to
# 160k unique Chinese tokens, each at the epochs of `epochs` that read 80k to 480k tokens: at
# most the compute of the largest bilingual run (en 400k + 4 x 20k zh), so the curve says what
# more Chinese data would give at no more compute than the methods it is compared with.
reference = [40_000, 80_000, 160_000]
reference_tokens = [80_000, 480_000]
# bf16 autocast against float32 on the same runs (the agreement check).
dtype_at = [50_000]
lrl_epochs = [1, 2, 4, 8]  # the lrl-epochs experiment (tune does this now) ...
lrl_epochs_at = [200_000]  # ... at this English size
# What `make experiments` runs here, cut to fit the time: the core (lrl-only, mix, scalex,
# tune/tuned, control, reference) at 5 seeds, the agreement check and the LR-schedule ablation.
# Not run at this scale: translate and codeswitch (the dictionary translator's chrF of 3 makes
# claim (a) untestable here), order, proportion, stage2, lrl-epochs (tune replaces it),
# ablate-tokens and multilingual; `make EXPERIMENT SCALE=quickstart` runs any of them.
experiments = ["lrl-only", "mix", "scalex", "tune", "tuned", "control", "reference", "dtype", "ablate-lr"]
