# The paper data plus the English translated into Chinese (2B-4B tokens). The dictionary
# translator is a floor; at this scale use backend="command" or "hf" with a real MT system.
include("data.py")
include("../transform_streams.py")
data_dir = "data/paper-translate"
languages = dict(languages, zh_translated=_zh_translated)
max_tokens = {"en": 4_000_000_000, "zh": 1_000_000_000, "zh_translated": 4_000_000_000}
