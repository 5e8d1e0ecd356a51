# The paper data plus its English code-switched into Chinese at 30% of words (up to 4B).
include("data.py")
include("../transform_streams.py")
data_dir = "data/paper-codeswitch"
languages = dict(languages, en_codeswitch=_en_codeswitch)
max_tokens = {"en": 4_000_000_000, "zh": 1_000_000_000, "en_codeswitch": 4_000_000_000}
