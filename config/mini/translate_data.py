# The mini data plus the dictionary translation of its English into Chinese, for translate at
# the transform sizes (config/mini/sweep.py: up to 8M).
include("data.py")
include("../transform_streams.py")
data_dir = "data/mini-translate"
languages = dict(languages, zh_translated=_zh_translated)
max_tokens = {"en": 8_000_000, "zh": 1_000_000, "zh_translated": 8_000_000}
test_tokens = dict(test_tokens, zh_translated=1_000_000)  # not judged: as val
