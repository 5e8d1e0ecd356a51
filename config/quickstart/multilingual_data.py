# Three languages: English as the high-resource one, Chinese and Japanese low-resource.
data_dir = "data/multilingual"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train",
             "ja": "hf:HuggingFaceFW/fineweb-2:data/jpn_Jpan/train"}
max_tokens = {"en": 800_000, "zh": 100_000, "ja": 100_000}
val_tokens = 30_000
test_tokens = {"en": 30_000, "zh": 400_000, "ja": 400_000}  # as data.py's
vocab_size = 2048
tokenizer_sample_bytes = 2_000_000

include("../ood.py")
