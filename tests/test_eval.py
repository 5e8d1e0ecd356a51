"""eval.py: checkpoint evaluation, bits-per-byte, the report table and plot."""
import json
import math
import os

import numpy as np

import data
import tokenizer
import eval as evaluate_mod
import report
from conftest import run, tiny_run_config


def _summary(root, name, method, hrl_tokens, lrl_bpb, seed=1):
    d = os.path.join(root, name)
    os.makedirs(d)
    s = {"run_name": name, "method": method, "hrl": "en", "lrl": "zh", "budget": {"en": hrl_tokens, "zh": 100},
         "val_loss": {"en": 1.0, "zh": 2.0}, "val_bpb": {"en": 1.5, "zh": lrl_bpb},
         "tokens_seen": {"en": hrl_tokens, "zh": 100}, "steps": 10, "wall_s": 1.0}
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    json.dump({"config": {"seed": seed}}, open(os.path.join(d, "config.json"), "w"))


def test_report_table_groups_seeds_and_plots(tmp_path):
    root = str(tmp_path / "runs")
    _summary(root, "a", "joint", 1000, 2.0)
    _summary(root, "b", "joint", 4000, 1.8)
    _summary(root, "c", "scalex", 1000, 1.85, seed=1)
    _summary(root, "d", "scalex", 1000, 2.05, seed=2)
    _summary(root, "e", "scalex", 4000, 1.6)
    table, md, png = report.report(root)
    rows = [l for l in table.splitlines() if l.startswith("| scalex")]
    assert "| 1,000 |" in rows[0] and "| 2 |" in rows[0] and "1.9500 ± 0.1414" in rows[0]
    assert "Lowest zh bpb per en budget: 1,000: scalex; 4,000: scalex" in table
    assert os.path.getsize(png) > 1000 and open(png, "rb").read(4) == b"\x89PNG"
    assert open(md).read().count("| joint |") == 2


def test_report_on_nothing_is_a_clear_error(tmp_path):
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: report: no finished run")


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
