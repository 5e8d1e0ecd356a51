# The smoke data plus the dictionary translation of its English into Chinese.
include("data.py")
include("../transform_streams.py")
data_dir = "data/smoke-translate"
languages = dict(languages, zh_translated=_zh_translated)
max_tokens = dict(max_tokens, zh_translated=120_000)
test_tokens = dict(test_tokens, zh_translated=5_000)
