# The experiments at the mini scale (sweep.py). HRL budgets are multiples of the 1M-token LRL
# budget: 4x, 8x, 24x (24M is what the offline English corpus holds with room for validation).
sizes = [4_000_000, 8_000_000, 24_000_000]
one = [8_000_000]
ablate = [4_000_000, 24_000_000]
transform = [4_000_000, 8_000_000]
proportion = [4_000_000, 8_000_000, 24_000_000]
multilingual = [8_000_000]
seeds = [1337, 1338]
# The time estimate of --dry_run: the CEO's measured 1.09M tokens/s for a 33.6M GPT on one H200
# (eager), applied to our code as an ESTIMATE (common.py says why).
tokens_per_s = 1_090_000
tokens_per_s_note = "1.09M tok/s measured for a 33.6M GPT on one H200, eager; not measured for this code"
