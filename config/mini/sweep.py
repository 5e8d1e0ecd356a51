# The experiments at the mini scale (sweep.py). HRL budgets are multiples of the 1M-token LRL
# budget: 2x, 4x, 8x (the offline English corpus holds 24M with room for validation).
sizes = [2_000_000, 4_000_000, 8_000_000]
one = [8_000_000]
ablate = [8_000_000]
transform = [4_000_000, 8_000_000]
proportion = [4_000_000, 8_000_000, 24_000_000]
multilingual = [8_000_000]
seeds = [1337, 1338, 1339]
epochs = [1, 2, 4]  # the best-LRL-only sweep; the same grid tunes joint and scalex (tune)
# The time estimate of --dry_run: a reference measurement of 1.09M tokens/s for a 33.6M GPT on
# one H200 (eager), applied to our code as an ESTIMATE until measured (common.py says why).
tokens_per_s = 1_090_000
tokens_per_s_note = "a reference measurement of 1.09M tok/s for a 33.6M GPT on one H200, eager; not of this code until measured"
lrl_epochs = [1, 2, 4]  # the lrl-epochs experiment ...
lrl_epochs_at = [8_000_000]  # ... at this English size
# A GPU box that gives a command a few minutes at a time: each `python3 sweep.py mini ...`
# trains the next share of the runs that fits 8 minutes by the estimate (seed by seed), then
# says how many are left; the same line again continues (--call_minutes=0: all in one go).
# Start-up and the final save per run, and preparing the data on the box's cores (the BPE of
# a 4 MB sample, 27M tokens tokenised), are estimates too.
call_minutes = 8
run_startup_s = 20.0
prepare_s = 90.0
# The measurement protocol (docs/experiments.md), as at the quickstart: tune at one size, the
# repeated-English control, the LRL-only reference curve of the effective-data multiplier.
tune_at = [4_000_000]
tune_epochs = [1, 2, 4]
tune_fractions = [0.1, 0.5]
hrl_unique = 2_000_000
control = [8_000_000]
reference = [2_000_000, 4_000_000]
reference_tokens = [2_000_000, 16_000_000]
experiments = ["lrl-only", "mix", "scalex", "tune", "tuned", "control", "reference", "order", "ablate-lr"]
