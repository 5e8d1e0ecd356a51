# The quickstart data plus two transformed streams of its English: a dictionary translation
# into Chinese (CC-CEDICT) and token-level code-switching at 30% density. The real languages'
# tokenizer sample is the quickstart's, so the BPE is the same; synthetic text does not shape it.
include("data.py")
include("../transform_streams.py")
data_dir = "data/transform"
languages = dict(languages, zh_translated=_zh_translated, en_codeswitch=_en_codeswitch)
max_tokens = dict(max_tokens, zh_translated=800_000, en_codeswitch=800_000)
test_tokens = dict(test_tokens, zh_translated=30_000, en_codeswitch=30_000)  # not judged: as val
