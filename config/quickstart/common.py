# Shared by every quickstart method: the methods differ only in `stages`.
# Every method trains on the same number of tokens (budget en + budget zh), in the same
# number of steps, with the same model, optimizer and seed: only the order and mixture of
# languages differ. The Makefile scales the English budget with --budget.en=N.
data_dir = "data/quickstart"
scale = "quickstart"
experiment = "quickstart"
hrl, lrl = "en", "zh"
budget = {"en": 800_000, "zh": 100_000}
model = "tiny"
vocab_size = 2048   # the data's (data.py): only so that --dry_run can count FLOPs before data exists
block_size = 128
batch_size = 16
lr_max = 3e-3
lr_min = 3e-4
warmup_steps = 20
log_interval = 10
ckpt_interval = 100
eval_tokens = 30_000
