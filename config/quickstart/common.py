# The quickstart scale: the paper's regime, a data-constrained low-resource language, on 2 CPU
# cores. Chinese has 20k train tokens: LRL-only training at the bilingual runs' compute repeats
# it 9x (English 100k) to 44x (English 800k), far past where repeating data pays, so English data
# has room to help. Every run at one English budget trains the same tokens in the same steps
# with the same model, optimizer and seed; only the order and mixture of languages differ.
# sweep.py and the Makefile set the English budget (--budget.en=N) and the recipe (--method=).
data_dir = "data/quickstart"
scale = "quickstart"
experiment = "quickstart"
hrl, lrl = "en", "zh"
budget = {"en": 800_000, "zh": 20_000}
# The bilingual recipes read the 20k Chinese tokens 4 times (joint, scalex, ...; lrl_only stays
# compute-matched to them). Measured with `python sweep.py quickstart lrl-epochs --seeds=1337
# '--lrl_epochs_at=[200000,800000]'` (2 CPU cores, 2026-12-01, one seed), zh val / ood bpb at
# en 800k: joint 2.975/4.427 (1 epoch), 2.898/4.414 (2), 2.840/4.412 (4), 2.761/4.367 (8);
# scalex (its stage 2 then at the fixed length) 2.943/4.527, 2.907/4.581, 2.832/4.534,
# 2.806/4.658. 4 takes most of the in-domain gain without the
# out-of-domain loss scalex shows at 8, and leaves a fixed-length stage 2 room at en 100k (at 8
# it would need 160k English tokens).
lrl_epochs = 4
# ScaleX's stage 2 reads a quarter of the English budget (with all the Chinese reads), so it grows
# with the English budget (scalex = scalex_frac here; scalex_fixed is the fixed-length one).
# Measured with `python sweep.py quickstart scalex --seeds=1337 --only=scalex,scalex_frac
# '--sizes=[200000,800000]'` before this line (scalex was then the fixed length), zh val / ood
# bpb: en 200k fixed 3.008/4.829, fraction 3.023/4.837; en 800k fixed 2.832/4.534, fraction
# 2.810/4.415. The quickstart suite compares the two at every size over three seeds (report).
stage2_hrl_fraction = 0.25
model = "tiny"
vocab_size = 2048   # the data's (data.py): only so that --dry_run can count FLOPs before data exists
block_size = 128
batch_size = 16
lr_max = 3e-3
lr_min = 3e-4
warmup_steps = 20
log_interval = 10
eval_interval = 100  # learning curves: val and out-of-domain bpb every 100 steps (205k tokens)
ckpt_interval = 100
eval_tokens = 30_000
