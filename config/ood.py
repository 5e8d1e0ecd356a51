# Data-config fragment: an out-of-domain Chinese text, scored beside validation (the `ood` split).
# Offline (local_dir set): the Chinese Union Version of the Bible, the last column of
# parallel-en-zh.tsv (public domain; verses grouped by chapter), which shares no source with
# the training Chinese; no such file, no ood split. On the Hub: Chinese Wikipedia.
import os

_tsv = os.path.join(local_dir, "parallel-en-zh.tsv") if local_dir else ""
ood = {"zh": _tsv} if _tsv and os.path.isfile(_tsv) else {} if local_dir else {"zh": "hf:wikimedia/wikipedia:20231101.zh"}
ood_tokens = 30_000
