# The paper scale: the paper's regime on one node of 8 GPUs (torchrun --nproc_per_node=8; sweep.py
# does it): a ~1B-parameter Llama-shaped model, Chinese 1B tokens, English up to 16x that.
# Documented and dry-run tested (tests/test_experiments.py), never run here. Time: see sweep.py.
data_dir = "data/paper"
scale = "paper"
hrl, lrl = "en", "zh"
budget = {"en": 8_000_000_000, "zh": 1_000_000_000}
model = "1b"
vocab_size = 32768     # the data's (data.py)
block_size = 2048
batch_size = 16        # per GPU; x 4 accumulation x 8 GPUs = 512 sequences = 1,048,576 tokens a step
grad_accum = 4
lr_max = 3e-4
lr_min = 3e-5
warmup_steps = 1000
compile = True
log_interval = 10
eval_interval = 1000
ckpt_interval = 500
eval_tokens = 10_000_000
