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
# Test: Chinese 8x val, not the default 10x: prepare reads 8 bytes of candidates per held-out
# token (none of them trains), and 8 x 11M bytes is more than the local Chinese corpus's 82.5 MB;
# 8 x 9M leaves 10 MB (about 2M tokens) for the 1M train tokens. English as val.
test_tokens = {"en": 1_000_000, "zh": 8_000_000}
vocab_size = 16384
tokenizer_sample_bytes = 4_000_000

include("../ood.py")
