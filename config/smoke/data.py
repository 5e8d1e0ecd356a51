# The smallest data that exercises the whole path (CI's end-to-end run): a 512-token BPE,
# English up to 120k tokens, Chinese 30k.
data_dir = "data/smoke"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 120_000, "zh": 30_000}
val_tokens = 5_000
test_tokens = {"en": 5_000, "zh": 10_000}  # small: the smoke runs score it whole at the end
vocab_size = 512
tokenizer_sample_bytes = 300_000
shuffle_block = 1_000

include("../ood.py")
