# Data for the CPU quickstart: a 2k-token BPE (the output layer dominates a tiny model's cost
# on CPU), English up to 800k train tokens, Chinese up to 100k (the runs use 20k). Runs take
# nested prefixes of these (budget in the run config); an out-of-domain Chinese text (ood.py). `make quickstart DATA=dir` reads dir/en.* and dir/zh.*
# (local_dir) instead of streaming from the Hub.
data_dir = "data/quickstart"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 800_000, "zh": 100_000}
val_tokens = 30_000
vocab_size = 2048
tokenizer_sample_bytes = 2_000_000

include("../ood.py")
