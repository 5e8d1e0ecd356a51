# The smoke data plus its English code-switched into Chinese at 30% of words.
include("data.py")
include("../transform_streams.py")
data_dir = "data/smoke-codeswitch"
languages = dict(languages, en_codeswitch=_en_codeswitch)
max_tokens = dict(max_tokens, en_codeswitch=120_000)
test_tokens = dict(test_tokens, en_codeswitch=5_000)
