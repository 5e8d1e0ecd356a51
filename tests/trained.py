"""A tiny model trained once per test session on the prepared fixture data (GQA, tied
embeddings), shared by the tests of eval.py, tasks.py and export.py."""
import os

from conftest import run, tiny_run_config

_RUNS = {}


def trained_run(tmp_path_factory, data_dir):
    """Path of the finished run directory (ckpt.pt + summary.json)."""
    if data_dir not in _RUNS:
        base = tmp_path_factory.mktemp("trained")
        cfg = tiny_run_config(base, data_dir, extra="""
model_args = {"d_model": 32, "n_head": 2, "n_kv_head": 1, "tie_embeddings": True}
stages = [{"name": "hrl", "lr": "constant", "tokens": {"en": 4096}},
          {"name": "mix", "lr": "cosine", "tokens": {"en": 2048, "zh": 2048}}]
log_interval = 100
""")
        r = run("train.py", cfg)
        assert r.returncode == 0, r.stderr[-2000:]
        _RUNS[data_dir] = str(base / "runs" / "t")
    assert os.path.isfile(os.path.join(_RUNS[data_dir], "ckpt.pt"))
    return _RUNS[data_dir]
