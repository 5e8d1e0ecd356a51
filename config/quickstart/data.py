# Data for the CPU quickstart: a 2k-token BPE (the output layer dominates a tiny model's cost
# on CPU), English up to 800k train tokens, Chinese up to 400k (the runs use 20k; the LRL-only
# reference curve up to 320k). Runs take nested prefixes of these (budget in the run config); an
# out-of-domain Chinese text (ood.py). `make quickstart DATA=dir` reads dir/en.* and dir/zh.*
# (local_dir) instead of streaming from the Hub.
data_dir = "data/quickstart"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
max_tokens = {"en": 800_000, "zh": 400_000}
val_tokens = 30_000
# The held-out test split the verdicts read, scored once at the end of a run: Chinese large
# enough that its standard error over documents is small (at least 200 documents: measured on a
# local corpus of laws and software docs, 300k tokens held 164 documents, 400k 216), English as val.
test_tokens = {"en": 30_000, "zh": 400_000}
vocab_size = 2048
tokenizer_sample_bytes = 2_000_000

include("../ood.py")
