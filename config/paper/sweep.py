# The experiments at the paper scale (sweep.py), 8 processes a run. HRL budgets 2x-16x the 1B LRL.
sizes = [2_000_000_000, 4_000_000_000, 8_000_000_000, 16_000_000_000]
one = [8_000_000_000]
ablate = [4_000_000_000, 16_000_000_000]
transform = [2_000_000_000, 4_000_000_000]
proportion = [4_000_000_000, 16_000_000_000]
multilingual = [8_000_000_000]
seeds = [1337]
nproc = 8
# ESTIMATE, not measured: the 1b preset costs 7.05 GFLOP/token at block 2048 (model.flops_per_token);
# at 40% of the H100/H200 dense bf16 peak (989 TFLOP/s; a reference measurement found 53% of the
# matmul ceiling for a compiled GPT-2 124M on an H200) 8 GPUs train ~450k tokens/s.
tokens_per_s = 450_000
tokens_per_s_note = "40% MFU assumed for the 1b preset on 8 H100/H200; not measured"
epochs = [1, 2, 4, 8]  # the best-LRL-only sweep
lrl_epochs = [1, 2, 4]  # the lrl-epochs experiment ...
lrl_epochs_at = [8_000_000_000]  # ... at this English size
