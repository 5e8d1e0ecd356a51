"""train.py: schedules, plans, bad input, run directories, resume after a kill, divergence, DDP."""
import glob
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from scalex import configurator
import data
from scalex import prepare
from scalex import rundir
import train
from conftest import ROOT, run, tiny_run_config
from scalex.checks import run_rules, stage_rules


def _cfg(**kw):
    cfg = json.loads(json.dumps(train.DEFAULTS))
    cfg.update(run_name="x", method="x", block_size=10, batch_size=2, grad_accum=1)
    cfg.update(kw)
    train.SETTINGS.check(cfg)
    run_rules(cfg)
    stage_rules(cfg)
    return cfg


SCALEX = [{"name": "hrl", "lr": "constant", "tokens": {"en": 400}}, {"name": "mix", "lr": "cosine", "tokens": {"en": 200, "zh": 200}}]


# ----------------------------------------------------------------------------- schedules
def test_schedule_shapes_and_continuity():
    cfg = _cfg(budget={"en": 1000, "zh": 500}, stages=SCALEX + [{"lr": "linear", "tokens": {"zh": 200}}], lr_max=1.0, lr_min=0.1)
    plan = train.build_plan(cfg)
    s1, s2, s3 = plan["stages"]
    assert (s1["steps"], s2["steps"], s3["steps"]) == (20, 20, 10)
    lrs = [train.lr_at(i, plan) for i in range(plan["total_steps"])]
    assert all(x == 1.0 for x in lrs[:20])                              # constant at lr_max
    assert lrs[20] == 1.0 and abs(lrs[30] - 0.55) < 1e-12               # cosine: midpoint halfway
    assert all(a >= b for a, b in zip(lrs[20:40], lrs[21:40]))         # ... decreasing
    assert abs(train.lr_at(40, plan) - 0.1) < 1e-12                      # linear starts where cosine ended
    assert abs(lrs[40] - lrs[39]) < 0.01 and abs(lrs[20] - lrs[19]) < 1e-12
    assert lrs == [train.lr_at(i, plan) for i in range(plan["total_steps"])]  # pure


def test_schedule_every_boundary_is_continuous():
    for st2 in ("cosine", "linear", "constant"):
        cfg = _cfg(budget={"en": 10_000, "zh": 10_000}, lr_max=3e-3, lr_min=3e-4,
                   stages=[{"lr": "cosine", "tokens": {"en": 2000}}, {"lr": st2, "tokens": {"zh": 3000}}])
        plan = train.build_plan(cfg)
        b = plan["stages"][1]["start_step"]
        step_size = abs(train.lr_at(b - 1, plan) - train.lr_at(b - 2, plan))
        assert abs(train.lr_at(b, plan) - train.lr_at(b - 1, plan)) <= step_size + 1e-12


def test_warmup_and_explicit_lr_from():
    cfg = _cfg(budget={"en": 1000}, stages=[{"lr": "constant", "tokens": {"en": 200}},
                                             {"lr": "cosine", "tokens": {"en": 200}, "lr_from": 5e-4, "lr_to": 1e-5}], lr_max=1e-3)
    plan = train.build_plan(cfg)
    assert train.lr_at(0, plan, warmup_steps=4) == 1e-3 / 4 and train.lr_at(3, plan, warmup_steps=4) == 1e-3
    assert train.lr_at(10, plan) == 5e-4 and 1e-5 < train.lr_at(19, plan) < 3e-5


# ----------------------------------------------------------------------------- plans
def test_plan_counts_and_epochs():
    cfg = _cfg(budget={"en": 1001, "zh": 201}, stages=SCALEX, batch_size=4)
    plan = train.build_plan(cfg, world_size=2)
    assert plan["tokens_per_step"] == 40 and plan["seqs_per_step"] == 4
    s1, s2 = plan["stages"]
    assert s1["tokens"] == {"en": 400} and s2["tokens"] == {"en": 200, "zh": 200}
    assert s1["epochs_end"]["en"] == 0.4 and s2["epochs_end"] == {"en": 0.6, "zh": 1.0}


def test_plan_does_not_depend_on_the_world_size():
    """The global batch is batch_size x grad_accum on any number of processes: they divide
    grad_accum (else batch_size) among them; a world size that divides neither is refused."""
    cfg = _cfg(budget={"en": 10_001, "zh": 2_001}, stages=SCALEX, batch_size=4, grad_accum=2)
    plans = {w: train.build_plan(cfg, world_size=w) for w in (1, 2, 4)}
    strip = lambda p: {k: v for k, v in p.items() if k not in ("world_size", "rank_batch")}
    assert all(strip(p) == strip(plans[1]) for p in plans.values())
    assert plans[1]["total_steps"] == 10 and plans[1]["seqs_per_step"] == 8
    assert [plans[w]["rank_batch"] for w in (1, 2, 4)] == [
        {"batch_size": 4, "grad_accum": 2}, {"batch_size": 4, "grad_accum": 1}, {"batch_size": 1, "grad_accum": 2}]
    with pytest.raises(configurator.ConfigError, match="WORLD_SIZE: 3 processes cannot share batch_size 4 x grad_accum 2"):
        train.build_plan(cfg, world_size=3)


def test_plan_mix_proportions_and_repetition():
    cfg = _cfg(budget={"en": 10_001, "zh": 1_001}, stages=[{"lr": "cosine", "total": 4000, "mix": {"en": 0.75, "zh": 0.25}}])
    st = train.build_plan(cfg)["stages"][0]
    assert st["tokens"] == {"en": 3000, "zh": 1000} and st["epochs_end"]["zh"] == 1.0
    cfg = _cfg(budget={"zh": 101}, stages=[{"lr": "cosine", "tokens": {"zh": 500}}])  # LRL-only, 5 epochs
    assert train.build_plan(cfg)["stages"][0]["epochs_end"]["zh"] == 5.0


def test_three_languages():
    cfg = _cfg(budget={"en": 10_001, "zh": 1_001, "ja": 1_001},
               stages=[{"lr": "constant", "tokens": {"en": 900}}, {"lr": "cosine", "total": 900, "mix": {"en": 1 / 3, "zh": 1 / 3, "ja": 1 / 3}}])
    assert train.build_plan(cfg)["stages"][1]["tokens"] == {"en": 300, "zh": 300, "ja": 300}


# one config per scale through the CLI; tests/test_experiments.py dry-runs every config in-process
RUN_CONFIGS = sorted(glob.glob(os.path.join(ROOT, "config", "*", "common.py")))


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_shipped_config_dry_runs(path):
    r = run("train.py", path, "--method=scalex", "--dry_run", "--data_dir=/nonexistent")
    assert r.returncode == 0, r.stderr
    assert "lr shape" in r.stdout and "epochs" in r.stdout and "total" in r.stdout


def test_shipped_data_configs_load():
    for path in glob.glob(os.path.join(ROOT, "config", "*", "data.py")):
        prepare.validate_data_config(configurator.load_config(path, {}, prepare.DEFAULTS))


def test_quickstart_methods_hold_tokens_equal():
    """Every quickstart method trains on the same number of tokens (within a step per stage)."""
    totals = {}
    for m in ("joint", "scalex", "lrl_only", "seq_hrl_lrl", "seq_lrl_hrl", "prop50", "mix_scalex_schedule"):
        cfg = train.resolve_config(os.path.join(ROOT, "config", "quickstart", "common.py"), {"method": m})
        plan = train.build_plan(cfg)
        totals[m] = sum(sum(st["tokens"].values()) for st in plan["stages"])
    assert max(totals.values()) - min(totals.values()) <= 2 * 2048, totals


def test_dry_run_output(tmp_path):
    r = run("train.py", os.path.join(ROOT, "config", "quickstart", "common.py"), "--method=scalex", "--dry_run", "--budget.en=600000",
            "--budget.zh=100000", "--lrl_epochs=1", "--stage2_hrl_fraction=0")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0].startswith("plan for run 'quickstart/scalex'")
    row1 = next(l for l in lines if l.startswith("1 hrl"))
    row2 = next(l for l in lines if l.startswith("2 mix"))
    assert "constant" in row1 and "499,712" in row1 and "3.00e-03  3.00e-03" in row1
    assert "cosine" in row2 and "3.00e-03  3.00e-04" in row2 and "1.00" in row2


# ----------------------------------------------------------------------------- bad input
BAD = [
    ("--bogus=1", "--bogus: unknown config key"),
    ("--stages=[{'lr': 'cosine', 'tokens': {'fr': 100}}]", "stages[0]: unknown language 'fr'"),
    ("--budget.en=-5", "budget.en: must be a positive integer"),
    ("--budget.zh=0", "budget.zh: must be a positive integer"),
    ("--stages=[{'lr': 'cosine', 'total': 100, 'mix': {'en': 0.5, 'zh': 0.4}}]", "stages[0].mix: shares sum to 0.9"),
    ("--stages=[{'tokens': {'en': 100}}]", "stages[0].lr: missing"),
    ("--stages=[{'lr': 'step', 'tokens': {'en': 100}}]", "stages[0].lr: unknown shape 'step'"),
    ("--stages=[{'lr': 'cosine', 'tokens': {'en': 0}}]", "stages[0].tokens.en: must be a positive integer"),
    ("--stages=[]", "method: missing; use one of joint, scalex"),
    ("--batch_size=0", "batch_size: must be a positive integer"),
    ("--data_dir=/nonexistent", "data_dir: '/nonexistent' is not prepared"),
    ("--budget.en=10000000", "budget.en: 10,000,000 tokens asked"),
    ("--vocab_size=100", "vocab_size: 100 does not cover the data's 320 token ids"),
]


@pytest.mark.parametrize("arg,msg", BAD)
def test_bad_input_is_one_line_exit_2(tmp_path, prepared, arg, msg):
    cfg = tiny_run_config(tmp_path, prepared[0])
    r = run("train.py", cfg, arg)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith(f"error: {msg.split(':')[0]}:"), r.stderr  # the key named; the wording is free
    assert len(r.stderr.strip().splitlines()) == 1 and not os.path.exists(tmp_path / "runs")


def test_bad_shards_are_refused(tmp_path, prepared):
    d = tmp_path / "d"
    shutil.copytree(prepared[0], d)
    cfg = tiny_run_config(tmp_path, d)
    # a shard from another tokenizer
    toks = data.read_shard(str(d / "zh" / "val.bin"))
    prepare.write_shard(d / "zh" / "val.bin", np.array(toks), 320, "f" * 64)
    r = run("train.py", cfg)
    assert r.returncode == 2 and "error: data_dir:" in r.stderr and "another tokenizer" in r.stderr
    # a torn shard
    blob = open(d / "en" / "train-00000.bin", "rb").read()
    open(d / "en" / "train-00000.bin", "wb").write(blob[:-2])
    r = run("train.py", cfg)
    assert r.returncode == 2 and "header says" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- runs
def _metrics(rd):
    with open(os.path.join(rd, "metrics.jsonl")) as f:
        return [json.loads(l) for l in f]


def test_run_directory_and_existing_run(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0], "eval_interval = 10\n")
    r = run("train.py", cfg)
    assert r.returncode == 0, r.stderr
    rd = tmp_path / "runs" / "t"
    c = json.load(open(rd / "config.json"))
    assert c["config"]["stages"][0]["lr"] == "constant" and c["plan"]["total_steps"] == 32
    assert c["data_manifest"]["sha256"] == data.load_manifest(prepared[0])["sha256"]
    assert "git_commit" in c["code"] and "train.py" in c["code"]["files_sha256"]
    s = json.load(open(rd / "summary.json"))
    assert set(s["val_loss"]) == set(s["val_bpb"]) == {"en", "zh"} and s["steps"] == 32
    assert s["tokens_seen"] == {"en": 3072, "zh": 1024} and s["wall_s"] > 0
    m = _metrics(rd)
    train_rows = [x for x in m if "loss" in x]
    assert [x["step"] for x in train_rows] == list(range(1, 33))
    assert train_rows[0]["stage"] == "hrl" and set(train_rows[0]["train_loss"]) == {"en"}
    assert train_rows[-1]["stage"] == "mix" and set(train_rows[-1]["train_loss"]) == {"en", "zh"}
    assert "val_bpb" in m[-1] and os.path.isfile(rd / "ckpt.pt")
    assert [x["step"] for x in m if "val_bpb" in x] == [10, 20, 30, 32]  # every eval_interval, and at the end
    # an existing run is never silently reused or lost
    r = run("train.py", cfg)
    assert r.returncode == 2 and r.stderr.startswith("error: run_name:") and "--resume" in r.stderr
    r = run("train.py", cfg, "--resume")
    assert r.returncode == 0 and "already finished" in r.stdout
    r = run("train.py", cfg, "--overwrite")
    assert r.returncode == 0, r.stderr
    aside = glob.glob(str(tmp_path / "runs" / "t.old-*"))
    assert len(aside) == 1 and os.path.isfile(os.path.join(aside[0], "summary.json"))
    r = run("train.py", cfg, "--resume", "--lr_max=1e-2")
    assert r.returncode == 2 and r.stderr.startswith("error: lr_max:") and "finished" in r.stderr  # never a stale reuse
    os.remove(rd / "summary.json")
    r = run("train.py", cfg, "--resume", "--lr_max=1e-2")
    assert r.returncode == 2 and r.stderr.startswith("error: lr_max:") and "keeps its config" in r.stderr


def test_resume_after_kill_matches_uninterrupted(tmp_path, prepared):
    """SIGKILL a run mid-way, resume it: every step's loss equals the uninterrupted run's."""
    extra = 'budget = {"en": 20_000, "zh": 8_000}\nstages = [{"lr": "constant", "tokens": {"en": 8000}}, {"lr": "cosine", "tokens": {"en": 2000, "zh": 4000}}]\nckpt_interval = 7\nbatch_size = 2\n'
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ref = run("train.py", tiny_run_config(tmp_path / "a", prepared[0], extra))
    assert ref.returncode == 0, ref.stderr
    ref_losses = [(x["step"], x["loss"]) for x in _metrics(tmp_path / "a" / "runs" / "t") if "loss" in x]
    assert len(ref_losses) == 219
    cfg_b = tiny_run_config(tmp_path / "b", prepared[0], extra)
    rd = tmp_path / "b" / "runs" / "t"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), cfg_b], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (rd / "metrics.jsonl").exists() and (rd / "ckpt.pt").exists():
            steps = [json.loads(l).get("step", 0) for l in open(rd / "metrics.jsonl") if l.strip()]
            if steps and steps[-1] >= 40:
                break
        time.sleep(0.005)
    assert p.poll() is None, "the run ended before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (rd / "summary.json").exists()
    killed_at = [json.loads(l).get("step", 0) for l in open(rd / "metrics.jsonl") if l.strip()][-1]
    r = run("train.py", cfg_b, "--resume")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout and killed_at < 219
    got = [(x["step"], x["loss"]) for x in _metrics(rd) if "loss" in x]
    assert got == ref_losses  # bitwise: same batches, same optimizer state, same arithmetic
    sa = json.load(open(tmp_path / "a" / "runs" / "t" / "summary.json"))
    sb = json.load(open(rd / "summary.json"))
    assert sa["val_loss"] == sb["val_loss"] and sa["tokens_seen"] == sb["tokens_seen"]


def test_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, prepared, monkeypatch, capsys):
    import torch

    import kernels
    cfg = tiny_run_config(tmp_path, prepared[0], "ckpt_interval = 4\n")
    real, calls = kernels.linear_cross_entropy, [0]

    def poisoned(h, w, t, ignore_index=-100):
        calls[0] += 1
        out = real(h, w, t, ignore_index)
        return out * float("nan") if calls[0] == 7 else out
    monkeypatch.setattr(kernels, "linear_cross_entropy", poisoned)
    with pytest.raises(SystemExit) as e:
        train.main([cfg])
    assert e.value.code == train.EXIT_DIVERGED
    err = capsys.readouterr().err
    assert "training diverged: loss is nan at step 6" in err and "(step 4)" in err
    rd = tmp_path / "runs" / "t"
    ck = torch.load(rd / "ckpt.pt", weights_only=False)
    assert ck["step"] == 4 and not (rd / "summary.json").exists()
    assert all(math.isfinite(v.float().sum().item()) for v in ck["model"].values())


def test_ddp_two_ranks_gloo_see_disjoint_sequences(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0], "log_samples = True\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        os.path.join(ROOT, "train.py"), cfg], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rd = tmp_path / "runs" / "t"
    ranks = []
    for k in (0, 1):
        ranks.append([tuple(p) for line in open(rd / f"samples_rank{k}.jsonl") for p in json.loads(line)["picks"]])
    plan = json.load(open(rd / "config.json"))["plan"]
    one = train.build_plan(train.resolve_config(cfg, {}), world_size=1)  # the same plan as one process
    assert plan["world_size"] == 2 and plan["rank_batch"] == {"batch_size": 2, "grad_accum": 1}
    assert {k: v for k, v in plan.items() if k not in ("world_size", "rank_batch")} == \
        {k: v for k, v in one.items() if k not in ("world_size", "rank_batch")}
    assert plan["seqs_per_step"] == 4 and len(ranks[0]) == len(ranks[1]) == plan["total_steps"] * 2
    seen0 = {(l, w, e) for l, w, e in ranks[0]}
    assert not seen0 & {(l, w, e) for l, w, e in ranks[1]}, "a sequence was read by both ranks"
    assert json.load(open(rd / "summary.json"))["steps"] == plan["total_steps"]


def test_gradient_accumulation_matches_a_bigger_batch(tmp_path, prepared):
    """batch 4 x accum 1 and batch 2 x accum 2 read the same sequences and take the same steps."""
    losses = {}
    for b, a in ((4, 1), (2, 2)):
        (tmp_path / f"{b}").mkdir()
        cfg = tiny_run_config(tmp_path / f"{b}", prepared[0], f"batch_size = {b}\ngrad_accum = {a}\n")
        assert train.main([cfg]) == 0
        losses[b] = [x["loss"] for x in _metrics(tmp_path / f"{b}" / "runs" / "t") if "loss" in x]
    assert len(losses[4]) == len(losses[2]) == 32
    assert abs(losses[4][0] - losses[2][0]) < 1e-6 and abs(losses[4][-1] - losses[2][-1]) < 1e-3


# ----------------------------------------------------------------------------- checkpoints
def test_bad_checkpoints_are_refused_in_one_line(tmp_path, prepared, capsys):
    """A checkpoint carries its sha256: flipped bytes, a torn, empty or foreign file stop a
    resume with one line naming the file and the fix (exit 2); a killed write's temp file
    is removed by the next start."""
    cfg = tiny_run_config(tmp_path, prepared[0])
    assert train.main([cfg]) == 0
    rd = tmp_path / "runs" / "t"
    os.remove(rd / "summary.json")
    good = (rd / "ckpt.pt").read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    flipped[len(good) // 3] ^= 0x01
    cases = {"flipped": (bytes(flipped), "is damaged (its sha256 does not match"), "truncated": (good[:len(good) // 2], "truncated"),
             "empty": (b"", "empty"), "foreign": (b"x" * 500, "not a scalex checkpoint")}
    for name, (blob, msg) in cases.items():
        (rd / "ckpt.pt").write_bytes(blob)
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            train.main([cfg, "--resume"])
        err = capsys.readouterr().err
        assert e.value.code == 2 and len(err.strip().splitlines()) == 1, (name, err)
        assert err.startswith(f"error: checkpoint: {rd / 'ckpt.pt'}") and msg in err and "--overwrite" in err, (name, err)
    (rd / "ckpt.pt").write_bytes(good)
    (rd / "ckpt.pt.tmp4242").write_bytes(good[:100])  # what a kill during a write leaves
    assert train.main([cfg, "--resume"]) == 0
    assert not glob.glob(str(rd / "ckpt.pt.tmp*")) and (rd / "summary.json").exists()


def test_resume_keeps_the_logged_train_loss_exact(tmp_path, prepared, monkeypatch):
    """Stopped between a checkpoint and a log step (ckpt_interval 7, log_interval 5), the
    resumed run logs the same per-language train losses as an uninterrupted one."""
    import threading
    extra = "log_interval = 5\nckpt_interval = 7\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert train.main([tiny_run_config(tmp_path / "a", prepared[0], extra)]) == 0
    cfg_b = tiny_run_config(tmp_path / "b", prepared[0], extra)
    real = train.lr_at

    def stop_at_17(step, plan, warmup_steps=0):
        if step == 17:
            raise KeyboardInterrupt
        return real(step, plan, warmup_steps)
    monkeypatch.setattr(train, "lr_at", stop_at_17)
    with pytest.raises(KeyboardInterrupt):
        train.main([cfg_b])
    for t in threading.enumerate():  # the checkpoint writer of the stopped run
        if t.name == "ckpt-writer":
            t.join()
    monkeypatch.setattr(train, "lr_at", real)
    assert train.main([cfg_b, "--resume"]) == 0
    rows = lambda d: [(x["step"], x["loss"], x["train_loss"]) for x in _metrics(d / "runs" / "t") if "loss" in x]
    assert rows(tmp_path / "b") == rows(tmp_path / "a") and [r[0] for r in rows(tmp_path / "a")][:4] == [5, 10, 15, 20]


def test_no_checkpoint_of_a_non_finite_state(tmp_path, prepared, capsys):
    """With a learning rate that blows the weights up, the run stops (exit 3) and whatever
    checkpoint it kept holds finite weights."""
    import torch
    cfg = tiny_run_config(tmp_path, prepared[0], "ckpt_interval = 1\nlog_interval = 50\nlr_max = 1e6\ngrad_clip = 0.0\nwarmup_steps = 0\n")
    with pytest.raises(SystemExit) as e:
        train.main([cfg])
    assert e.value.code == train.EXIT_DIVERGED
    assert "training diverged" in capsys.readouterr().err
    ck = tmp_path / "runs" / "t" / "ckpt.pt"
    if ck.exists():
        state = rundir.load_checkpoint(str(ck))
        assert all(torch.isfinite(v).all() for v in state["model"].values())


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a GPU")
def test_no_host_sync_between_log_steps_on_a_gpu(tmp_path, prepared, monkeypatch):
    """From the third step to the last, with no log or checkpoint step in between, any
    device-to-host sync raises (torch.cuda.set_sync_debug_mode('error'))."""
    import torch
    cfg = tiny_run_config(tmp_path, prepared[0], "log_interval = 1000\nckpt_interval = 1000\ndevice = 'cuda'\n")
    total = train.build_plan(train.resolve_config(cfg, {}))["total_steps"]
    real = train.lr_at

    def lr_at(step, plan, warmup_steps=0):
        torch.cuda.set_sync_debug_mode("error" if 2 <= step < total - 1 else "default")
        return real(step, plan, warmup_steps)
    monkeypatch.setattr(train, "lr_at", lr_at)
    try:
        assert train.main([cfg]) == 0
    finally:
        torch.cuda.set_sync_debug_mode("default")


# ----------------------------------------------------------------------------- dtype
def test_dtype_auto_takes_bf16_where_the_cpu_has_it(tmp_path, prepared, monkeypatch):
    """dtype=auto: bf16 autocast on a GPU and on a CPU with native bf16, float32 on one
    without; a dtype given is kept. The run trains either way (exit 0) and its summary says
    which dtype it ran in, and at how many threads."""
    from scalex import checks
    for has in (True, False):
        monkeypatch.setattr(checks, "cpu_has_bf16", lambda: has)
        want = "bfloat16" if has else "float32"
        assert checks.resolve_dtype("auto", "cpu") == want and checks.resolve_dtype("auto", "cuda:1") == "bfloat16"
        assert checks.resolve_dtype("float32", "cuda") == "float32" and checks.resolve_dtype("bfloat16", "cpu") == "bfloat16"
        *_, autocast, dtype = train.setup_device(dict(train.DEFAULTS, device="cpu"))
        assert dtype == want and (getattr(autocast, "fast_dtype", None) == __import__("torch").bfloat16) == has
        (tmp_path / want).mkdir()
        assert train.main([tiny_run_config(tmp_path / want, prepared[0])]) == 0
        s = json.load(open(tmp_path / want / "runs" / "t" / "summary.json"))
        assert s["dtype"] == want and s["threads"] >= 1


def test_cpu_bf16_detection_falls_back_to_cpuinfo(monkeypatch):
    """Without torch's capability helpers (older torch, ARM) the kernel's flags decide."""
    import io
    import torch
    from scalex import checks
    for f in ("get_capabilities", "_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.delattr(torch.cpu, f, raising=False)
    for flags, has in (("fpu sse avx2 avx512f", False), ("fpu avx512f avx512_bf16", True), ("fp asimd bf16 i8mm", True),
                       ("fp asimd sve svebf16", True)):
        monkeypatch.setattr(checks, "open", lambda *a, **k: io.StringIO(f"processor : 0\nflags : {flags}\n"), raising=False)
        assert checks.cpu_has_bf16() is has, flags
    monkeypatch.setattr(checks, "open", lambda *a, **k: (_ for _ in ()).throw(FileNotFoundError("/proc/cpuinfo")), raising=False)
    assert checks.cpu_has_bf16() is False
