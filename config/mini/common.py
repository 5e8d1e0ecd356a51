# The mini scale: one H100/H200, the core sweep (lrl-only, mix, scalex at two seeds) in about
# eight minutes including data preparation. The sizes below were derived from a reference
# measurement that is not of this code: a 33.6M-parameter GPT (block 512, batch 64, vocab 16k,
# SDPA, eager) trained at about 1.09M tokens/s on one H200 (torch.compile adds ~40%; recorded in
# BENCHMARKS.md). Our "mini" preset (6 layers x 512, SwiGLU, 16k vocab: 27.7M non-embedding
# parameters, 0.185 GFLOP/token by model.flops_per_token) costs about what that GPT does per
# token, so 1.09M tokens/s is an ESTIMATE for it until measured (config/mini/sweep.py turns it
# into the sweep's time).
# Chinese (the LRL) is data-constrained at 1M tokens: lrl_only repeats it 5x-25x, beyond the
# ~4 epochs after which repeated data stops paying (Muennighoff et al. 2023), so the English
# budget (2M-8M, --budget.en) has room to matter. ScaleX's stage 2 reads a quarter of the
# English budget with all the Chinese, as at the quickstart.
stage2_hrl_fraction = 0.25
data_dir = "data/mini"
scale = "mini"
hrl, lrl = "en", "zh"
budget = {"en": 8_000_000, "zh": 1_000_000}
model = "mini"
vocab_size = 16384     # the data's (data.py): so that --dry_run counts FLOPs before data exists
block_size = 512
batch_size = 64        # 32,768 tokens a step: 153 steps at 4x, 763 at 24x
lr_max = 2e-3
lr_min = 2e-4
warmup_steps = 20
log_interval = 20
eval_interval = 100     # learning curves: every 100 steps
ckpt_interval = 200
eval_tokens = 1_000_000
# The torch path (SDPA, torch cross-entropy): our Triton kernels have passed no GPU measurement
# yet (BENCHMARKS.md); eager, as compiling each of ~30 short runs would cost more than the ~40%
# it saves.
kernels = "torch"
compile = False
