# English, Chinese and Japanese at the mini scale; Japanese is a second data-constrained LRL
# (1M tokens). Offline, DATA=dir needs dir/ja.* (e.g. ja.jsonl.gz of Aozora Bunko texts).
include("data.py")
data_dir = "data/mini-multilingual"
languages = dict(languages, ja="hf:HuggingFaceFW/fineweb-2:data/jpn_Jpan/train")
max_tokens = {"en": 8_000_000, "zh": 1_000_000, "ja": 1_000_000}
test_tokens = dict(test_tokens, ja=1_000_000)  # as val: the local Japanese text is 42 MB
