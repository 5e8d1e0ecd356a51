# The mini data plus its English code-switched into Chinese at 30% of words (up to 8M).
include("data.py")
include("../transform_streams.py")
data_dir = "data/mini-codeswitch"
languages = dict(languages, en_codeswitch=_en_codeswitch)
max_tokens = {"en": 8_000_000, "zh": 1_000_000, "en_codeswitch": 8_000_000}
test_tokens = dict(test_tokens, en_codeswitch=1_000_000)  # not judged: as val
