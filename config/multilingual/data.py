# Three languages: English as the high-resource one, Chinese and Japanese low-resource.
data_dir = "data/multilingual"
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train",
             "ja": "hf:HuggingFaceFW/fineweb-2:data/jpn_Jpan/train"}
max_tokens = {"en": 1_200_000, "zh": 150_000, "ja": 150_000}
val_tokens = 30_000
vocab_size = 4096
