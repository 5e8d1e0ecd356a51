"""bench.py: what can run without a GPU runs and reports (the interpreter's kernel check, the
training loop's overhead, the checkpoint cost); what cannot says so in one line."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


def bench(*args, env=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "bench.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, **(env or {})))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_without_a_gpu_one_line_and_how_to_check_instead():
    r = bench(env={"TRITON_INTERPRET": "0"})  # what `make bench` runs
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "no CUDA GPU" in r.stderr
    assert "TRITON_INTERPRET=1 python bench.py kernels --tiny" in r.stderr
    r = bench("nonsense")
    assert r.returncode == 2 and r.stderr.startswith("error: bench: unknown benchmark")


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="needs triton (requirements-gpu.txt)")
def test_kernels_tiny_in_the_interpreter(tmp_path):
    """The interpreter check the no-GPU line points to: correctness rows, timing rows, JSON."""
    r = bench("kernels", "--tiny", f"--out={tmp_path}", env={"TRITON_INTERPRET": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "bench-kernels.json").read_text())
    assert res["correct"] and {row["what"] for row in res["timings"]} == {"attention", "linear_ce"}
    one_token = [c for c in res["checks"] if c["what"] == "attention" and c["shape"][3] == 1]
    assert one_token and one_token[0]["ok"]  # dK and dQ are exactly 0 there: the floor of 1 keeps it a pass
    assert {"ours_s", "sdpa_flash_s", "sdpa_default_s"} <= set(res["timings"][0])
    assert "all ok" in r.stdout and "attention" in r.stdout and "linear_ce" in r.stdout


def test_loop_and_checkpoint_benchmarks_on_cpu(tmp_path):
    r = bench("loop", "--tiny", f"--out={tmp_path}")
    assert r.returncode == 0, r.stderr[-2000:]
    loop = json.loads((tmp_path / "bench-loop.json").read_text())
    assert loop["loop_tok_s"] > 0 and loop["step_tok_s"] > 0 and "overhead" in r.stdout
    r = bench("ckpt", "--preset=tiny", "--vocab=512", "--B=2", "--T=16", "--steps=4", "--every=2", f"--out={tmp_path}")
    assert r.returncode == 0, r.stderr[-2000:]
    ck = json.loads((tmp_path / "bench-ckpt.json").read_text())
    assert ck["save_blocking_s"] > 0 and ck["save_sync_s"] > 0 and "background" in r.stdout


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="needs triton (requirements-gpu.txt)")
def test_first_call_tiny_in_the_interpreter(tmp_path):
    """The first GPU call's script end to end on CPU (`bench.py first --tiny`, interpreter): a
    JSON line per row as it goes (start with the estimates, correctness, both timings, the
    training-step ratio, the measured time per part), correctness all ok."""
    r = bench("first", "--tiny", f"--out={tmp_path}", env={"TRITON_INTERPRET": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "bench-first.jsonl").read_text().splitlines()]
    parts = [row["part"] for row in rows]
    assert parts[0] == "start" and parts[-1] == "done" and {"correctness", "attention", "linear_ce", "train_step"} <= set(parts)
    assert rows[0]["estimate_s"] and rows[0]["torch"] and "device" in rows[0]
    assert all(row["ok"] for row in rows if row["part"] == "correctness")
    assert {"attention", "linear_ce"} <= {row["what"] for row in rows if row["part"] == "correctness"}
    assert rows[-1]["part_s"].keys() >= {"correctness", "attention", "linear_ce", "train_step"}
    assert "estimated" in r.stdout.splitlines()[0] and "all ok" in r.stdout
