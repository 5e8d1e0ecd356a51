# Three languages at the smoke size: English, Chinese and Japanese (DATA=dir needs dir/ja.*).
include("data.py")
data_dir = "data/smoke-multilingual"
languages = dict(languages, ja="hf:HuggingFaceFW/fineweb-2:data/jpn_Jpan/train")
max_tokens = dict(max_tokens, ja=30_000)
test_tokens = dict(test_tokens, ja=10_000)
