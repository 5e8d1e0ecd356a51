# The smallest run that exercises the whole path: a few dozen steps per method.
data_dir = "data/smoke"
scale = "smoke"
hrl, lrl = "en", "zh"
budget = {"en": 120_000, "zh": 30_000}
model = "tiny"
model_args = {"d_model": 64}
vocab_size = 512   # the data's (data.py): only so that --dry_run can count FLOPs before data exists
block_size = 64
batch_size = 16
lr_max = 3e-3
lr_min = 3e-4
warmup_steps = 5
log_interval = 10
eval_interval = 40      # learning curves: every 40 steps
ckpt_interval = 50
eval_tokens = 5_000
