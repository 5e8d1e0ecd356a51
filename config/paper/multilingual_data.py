# English, Chinese and Japanese at the paper scale (1B tokens of each LRL).
include("data.py")
data_dir = "data/paper-multilingual"
languages = dict(languages, ja="hf:HuggingFaceFW/fineweb-2:data/jpn_Jpan/train")
max_tokens = {"en": 8_000_000_000, "zh": 1_000_000_000, "ja": 1_000_000_000}
