# Data for the paper scale (one node of 8 GPUs; never run here): a 32k joint BPE, English up to
# 16B train tokens (16x), Chinese 1B, streamed from the Hugging Face Hub (fineweb-edu and
# fineweb-2 cmn_Hani hold far more than that).
data_dir = "data/paper"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/100BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 16_000_000_000, "zh": 1_000_000_000}
val_tokens = 10_000_000
vocab_size = 32768
tokenizer_sample_bytes = 200_000_000
shard_tokens = 200_000_000

include("../ood.py")
