# Data for the mini scale (one H100/H200; sizes in common.py): a 16k joint BPE, English up to
# 24M train tokens (24x the Chinese budget), Chinese 1M (data-constrained). Measured preparing
# it from a local English corpus on 2 CPUs (2026-11-26): 24M train tokens took 33,319 of its
# 43,282 documents (3.50 bytes/token), so 24x is about as far as that corpus goes with 1M val
# tokens; Chinese 5.16 bytes/token. Validation: 1M tokens per language (Chinese: 927 documents,
# ~1,950 windows of 512), so that the evaluation's own standard error (summary.json
# val_bpb_se) is small beside the seed spread.
data_dir = "data/mini"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 24_000_000, "zh": 1_000_000}
val_tokens = 1_000_000
vocab_size = 16384
tokenizer_sample_bytes = 4_000_000

include("../ood.py")
