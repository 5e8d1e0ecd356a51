# Data for the mini scale (one H100/H200; sizes in common.py): a 16k joint BPE, English up to
# 24M train tokens (24x the Chinese budget), Chinese 1M (data-constrained). Measured on the
# offline corpora with a 16k joint BPE (2026-11-26, 2 CPUs, a 2.5M-character sample each):
# English 3.28 characters/token, Chinese 2.11, so ../shared/corpora's 107M English characters
# hold ~33M tokens (24M train + 1M val fit) and its 34.5M Chinese characters ~16M.
# Validation: 1M tokens per language (~1,000 Chinese documents), so that the evaluation's own
# standard error (summary.json val_bpb_se) is well below the seed spread.
data_dir = "data/mini"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 24_000_000, "zh": 1_000_000}
val_tokens = 1_000_000
vocab_size = 16384
tokenizer_sample_bytes = 4_000_000
