# The quickstart runs on data that also holds the transformed streams (config/transform/data.py).
# The real languages' BPE ranks and token shards are identical to the quickstart's (checked
# 2026-11-26; only the tokenizer's hash differs, as it also covers the list of streams), so
# these runs sit in the same report as joint and scalex (make transform writes them under
# runs/quickstart).
include("../quickstart/common.py")
data_dir = "data/transform"
budget = dict(budget, zh_translated=budget["en"], en_codeswitch=budget["en"])
