# The quickstart data plus two transformed streams of its English: a dictionary translation
# into Chinese (CC-CEDICT) and token-level code-switching at 30% density. The real languages'
# tokenizer sample is the quickstart's, so the BPE is the same; synthetic text does not shape it.
import os

include("../quickstart/data.py")
data_dir = "data/transform"
_parallel = "../shared/corpora/parallel-en-zh.tsv"  # chrF of the translator, where this file exists
languages = dict(languages,
                 zh_translated={"from": "en", "transform": "translate", "backend": "dict", "target": "zh",
                                "parallel": _parallel if os.path.isfile(_parallel) else ""},
                 en_codeswitch={"from": "en", "transform": "codeswitch", "level": "token", "density": 0.3})
max_tokens = dict(max_tokens, zh_translated=800_000, en_codeswitch=800_000)
