"""eval.py: checkpoint evaluation and bits-per-byte (the report is tested in test_report.py)."""
import json
import math
import os

import numpy as np

import data
import tokenizer
import eval as evaluate_mod
from conftest import run, tiny_run_config


def test_evaluate_checkpoint_matches_the_run_summary_and_bpb(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0])
    assert run("train.py", cfg).returncode == 0
    rd = tmp_path / "runs" / "t"
    res = evaluate_mod.evaluate_checkpoint(str(rd))
    s = json.load(open(rd / "summary.json"))
    for lang in ("en", "zh"):
        assert abs(res[lang]["loss"] - s["val_loss"][lang]) < 1e-6
        # bits per byte = nats per token / ln 2 * tokens / bytes, bytes counted from the val text
        assert abs(res[lang]["bpb"] - res[lang]["loss"] / math.log(2) * res[lang]["tokens"] / res[lang]["bytes"]) < 1e-9
    tok = tokenizer.load_tokenizer(prepared[0])
    val = np.asarray(data.read_shard(os.path.join(prepared[0], "zh", "val.bin")))
    n = (500 // 32) * 32  # windows scored: eval_tokens=500, block 32
    targets = val[1:n + 1]
    assert res["zh"]["bytes"] == sum(len(tok.enc.decode_single_token_bytes(int(t))) for t in targets if t != tok.meta["eot"])
    r = run("eval.py", str(rd))
    assert r.returncode == 0 and "bits/byte" in r.stdout and "zh" in r.stdout
    r = run("eval.py", str(tmp_path / "nope"))
    assert r.returncode == 2 and "checkpoint: no file" in r.stderr
