"""The experiment suite: every config at every scale plans (in-process, no subprocess per
config), each experiment is compute-matched where the README says so, ScaleX's stage 2 and
the LR ablations have the shapes their comments claim, run records (M3, plan hash, compute
key), the evaluation's standard error, and sweep.py's listing, skipping and packing."""
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest

from scalex import configurator
from scalex import prepare
import sweep
import train
from scalex.configurator import ConfigError
from scalex.rundir import run_record
from conftest import ROOT, run

SCALES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "config", "*", "sweep.py")))
FRAGMENTS = ("data.py", "sweep.py")


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # config paths are relative to the repository, as make runs them


def run_configs(scale):
    """The run configs of a scale: common.py and its data variants (translate.py, disjoint.py, ...)."""
    return sorted(p for p in glob.glob(f"config/{scale}/*.py") if not p.endswith(FRAGMENTS))


def test_the_four_scales_exist():
    assert {"quickstart", "smoke", "mini", "paper"} <= set(SCALES)


@pytest.mark.parametrize("scale", SCALES)
def test_every_config_of_a_scale_plans(scale):
    """Each run config at its default budget, and every run of the scale's whole sweep at its
    size and seed, resolves and plans; the data configs it names load."""
    sw = sweep.load_sweep(scale)
    for path in run_configs(scale):
        cfg = train.resolve_config(path, {"method": "joint"})
        assert cfg["scale"] == scale, path
        train.build_plan(cfg, sw["nproc"])
    cache = {}
    runs = sweep.runs_of(scale, list(sweep.EXPERIMENTS), sw["seeds"], sw)
    assert len({json.dumps(r) for r in runs}) == len(runs)
    for exp, c, n, seed, extra in runs:
        cfg, plan, fpt = sweep.plan_run(*sweep.run_args(scale, exp, c, n, seed, extra), sw["nproc"], cache)
        assert cfg["experiment"] == exp and cfg["budget"]["en"] == n and fpt > 0 and cfg["method"] == c
        assert cfg["run_name"].startswith(f"{scale}/{exp}/{c}") and cfg["run_name"].endswith(f"-en{n}-s{seed}")
        for k, v in extra.items():  # every extra setting is in the run and tagged in its name
            assert cfg[k.split(".")[0]] == v or cfg["budget"].get(k.split(".")[-1]) == v
            assert f"-{sweep.TAGS.get(k, k)}{v if isinstance(v, str) else format(v, 'g')}" in cfg["run_name"]
        # the data config the sweep prepares for this experiment exists and is the run's data
        dpath = os.path.join("config", scale, sweep.DATA.get(exp, "data") + ".py")
        assert os.path.isfile(dpath), dpath
        if dpath not in cache:
            cache[dpath] = configurator.load_config(dpath, {}, prepare.DEFAULTS)["data_dir"]
        assert cfg["data_dir"] == cache[dpath], (exp, c, dpath)
    for path in glob.glob(f"config/{scale}/*data.py"):
        prepare.validate_data_config(configurator.load_config(path, {}, prepare.DEFAULTS))


def _record(scale, exp, c, n, sw, cache):
    cfg, plan, fpt = sweep.plan_run(*sweep.run_args(scale, exp, c, n, 1), sw["nproc"], cache)
    return run_record(cfg, plan, None, fpt), plan


@pytest.mark.parametrize("scale", SCALES)
def test_experiments_are_compute_matched(scale):
    """At every HRL size, every bilingual run on the joint-tokenizer data trains the same tokens
    in the same steps with the same FLOPs as lrl_only at that size (the README's claim); the
    disjoint-tokenizer runs the same tokens and steps (their output layer is larger)."""
    sw, cache = sweep.load_sweep(scale), {}
    keys = {}
    for exp, c, n, _, _ in sweep.runs_of(scale, list(sweep.EXPERIMENTS), [1], sw):
        if c in ("lrl_only_epochs",) or exp in ("multilingual", "lrl-epochs"):
            continue
        rec, _ = _record(scale, exp, c, n, sw, cache)
        keys.setdefault(n, {})[("disjoint/" if exp == "ablate-tokens" else "") + c] = rec["compute_key"]
    for n, by in keys.items():
        ref = by["lrl_only"]
        for c, k in by.items():
            assert (k["tokens"], k["steps"]) == (ref["tokens"], ref["steps"]), (scale, n, c, k, ref)
            if not c.startswith("disjoint/"):
                assert k == ref, (scale, n, c)
        mix = train.resolve_config(f"config/{scale}/common.py", {"method": "joint"})  # tokens = HRL + LRL budget, to a step
        reads = n + round(mix["lrl_epochs"] * mix["budget"]["zh"])
        assert abs(ref["tokens"] - reads) <= train.build_plan(mix, sw["nproc"])["tokens_per_step"]
    # the multilingual pair is matched to each other
    ml = [_record(scale, "multilingual", m, sw["multilingual"][0], sw, cache)[0]["compute_key"] for m in ("joint", "scalex")]
    assert ml[0] == ml[1]


# The recipe-shape tests below hold the quickstart's older settings fixed (100k Chinese read
# once, stage 2 at its fixed length), so their numbers test the recipes, not the scale's choices.
SHAPE = {"budget.zh": 100_000, "lrl_epochs": 1, "stage2_hrl_fraction": 0.0}


def _plan(method, scale="quickstart", **over):
    cfg = train.resolve_config(f"config/{scale}/common.py", {"method": method, **(SHAPE if scale == "quickstart" else {}), **over})
    return cfg, train.build_plan(cfg)


def test_scalex_stage2_reads_fresh_hrl_and_each_budget_once():
    cfg, plan = _plan("scalex")
    s1, s2 = plan["stages"]
    assert set(s1["tokens"]) == {"en"} and s1["lr"] == "constant" and s2["lr"] == "cosine"
    assert abs(s2["tokens"]["zh"] - 100_000) < 2048 and abs(s2["tokens"]["en"] - s2["tokens"]["zh"]) <= 128
    assert s2["epochs_end"]["en"] == pytest.approx(1.0, abs=0.01) and s2["epochs_end"]["zh"] == pytest.approx(1.0, abs=0.02)
    for m, share in (("scalex_s2short", 0.8), ("scalex_s2long", 0.25)):  # the ablation: only stage 2's length moves
        _, p = _plan(m)
        t2 = sum(p["stages"][1]["tokens"].values())
        assert t2 == pytest.approx(100_000 / share, rel=0.03) and p["total_steps"] == plan["total_steps"]
        assert p["stages"][1]["epochs_end"]["zh"] == pytest.approx(1.0, abs=0.03)


def test_scalex_undefined_without_enough_hrl_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"^budget\.en: ScaleX's stage 2 reads 100,000 en tokens"):
        _plan("scalex", **{"budget.en": 100_000})
    with pytest.raises(ConfigError, match=r"^budget\.en: ScaleX's stage 2 reads 300,000 en tokens"):
        _plan("scalex_s2long", **{"budget.en": 200_000})
    with pytest.raises(ConfigError, match=r"^stage2_lrl_share: "):
        _plan("scalex", stage2_lrl_share=1.0)
    r = run("train.py", "config/smoke/common.py", "--method=scalex", "--dry_run", "--budget.en=20000")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("error: budget.en: ScaleX's stage 2")


def test_order_and_schedule_move_one_at_a_time():
    _, sx = _plan("scalex")
    _, ms = _plan("mix_scalex_schedule")
    _, mx = _plan("joint")
    # mix under ScaleX's schedule: ScaleX's stage lengths and LR shapes, mix's proportions
    assert [(s["steps"], s["lr"], s["lr_from"], s["lr_to"]) for s in ms["stages"]] == \
           [(s["steps"], s["lr"], s["lr_from"], s["lr_to"]) for s in sx["stages"]]
    for st in ms["stages"]:
        assert st["tokens"]["zh"] / sum(st["tokens"].values()) == pytest.approx(100_000 / 900_000, abs=0.01)
    assert ms["total_steps"] == mx["total_steps"] == sx["total_steps"]


def test_lr_ablations_have_their_shapes():
    cfg, cos = _plan("scalex_cosine")
    _, wsd = _plan("scalex_wsd")
    _, sx = _plan("scalex")
    hi, lo = cfg["lr_max"], cfg["lr_min"]
    a, b, c = cos["stages"]
    assert (a["lr"], a["lr_from"], a["lr_to"]) == ("cosine", hi, lo)       # stage 1 decays
    assert (b["lr"], b["lr_from"], b["lr_to"]) == ("linear", lo, hi)       # re-warmed
    assert (c["lr"], c["lr_from"], c["lr_to"]) == ("cosine", hi, lo)
    assert train.lr_at(b["start_step"] - 1, cos) < 1.01 * lo + 1e-5 and train.lr_at(c["start_step"], cos) == pytest.approx(hi)
    a, b, c = wsd["stages"]
    assert [s["lr"] for s in wsd["stages"]] == ["constant", "constant", "linear"] and c["lr_to"] == lo
    assert train.lr_at(c["start_step"] - 1, wsd, 20) == hi
    for p in (cos, wsd):  # the same data as scalex, split at the same stage-1 end
        assert p["stages"][0]["steps"] == sx["stages"][0]["steps"] and p["total_steps"] == sx["total_steps"]
        assert sum(s["tokens"]["zh"] for s in p["stages"][1:]) == pytest.approx(sx["stages"][1]["tokens"]["zh"], abs=2 * 2048)


def test_proportion_and_lrl_only():
    for p in (10, 25, 50):
        _, plan = _plan(f"prop{p}")
        t = plan["stages"][0]["tokens"]
        assert t["zh"] / (t["zh"] + t["en"]) == pytest.approx(p / 100, abs=0.005)
    _, e = _plan("lrl_only_epochs", budget={"en": 10**7, "zh": 100_000}, lrl_epochs=4)
    assert e["stages"][0]["epochs_end"]["zh"] == pytest.approx(4, abs=0.05)


def test_run_record():
    cfg, plan = _plan("scalex")
    rec = run_record(cfg, plan, None, 1000)
    assert rec["scale"] == "quickstart" and rec["experiment"] == "quickstart" and rec["seed"] == 1337
    assert rec["m3"]["k"] == pytest.approx(1.0, abs=0.02) and rec["m3"]["r"] == pytest.approx(1 / 9, abs=0.01)
    assert rec["m3"]["r_f"] == pytest.approx(0.5, abs=0.01)
    assert rec["stage2"]["tokens"] == sum(plan["stages"][1]["tokens"].values())
    assert rec["stage2"]["fraction"] == pytest.approx(rec["stage2"]["tokens"] / rec["compute_key"]["tokens"])
    assert rec["compute_key"] == {"tokens": plan["total_steps"] * 2048, "steps": plan["total_steps"], "flops": 1000 * plan["total_steps"] * 2048}
    # the same token schedule hashes the same, another one not; one stage records no stage2
    same = run_record(*_plan("scalex", stage2_lrl_share=0.5), None, 1000)
    assert same["plan_sha256"] == rec["plan_sha256"]
    assert run_record(*_plan("scalex_s2short"), None, 1000)["plan_sha256"] != rec["plan_sha256"]
    assert "stage2" not in run_record(*_plan("joint"), None, 1000)
    lo = run_record(*_plan("lrl_only"), None, 1000)
    assert lo["m3"]["r"] == 1.0 and lo["m3"]["k"] == pytest.approx(9.0, abs=0.05)


def test_dry_run_prints_flops(capsys):
    assert train.main(["config/mini/common.py", "--method=scalex", "--dry_run", "--data_dir=/nonexistent"]) == 0
    out = capsys.readouterr().out
    assert "cost: 9,011,200 tokens, 275 steps, 1.666e+15 FLOPs" in out and "M3 k=1.01" in out


def test_sweep_dry_run_lists_every_run_with_totals(capsys):
    assert sweep.main(["smoke", "mix", "scalex", "--dry_run", "--seeds=1,2"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [l for l in out if l.startswith("smoke/")]
    # mix: joint at 2 sizes; scalex: scalex at 2 sizes; two seeds
    assert len(rows) == 2 * (2 + 2) and rows[0].startswith("smoke/mix/joint-en60000-s1")
    assert out[-1].startswith("total: 8 runs,") and "FLOPs" in out[-1]
    with pytest.raises(SystemExit) as e:
        sweep.main(["smoke", "bogus", "--dry_run"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        sweep.main(["nosuchscale", "mix", "--dry_run"])


def test_multilingual_without_a_third_language_says_so(tmp_path, capsys):
    assert sweep.main(["smoke", "multilingual", f"--local_dir={tmp_path}", "--dry_run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("multilingual: skipped: no third-language text in") and out.count("\n") <= 2


def test_pack(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    with gzip.open(src / "en.jsonl.gz", "wt") as f:
        for i in range(100):
            f.write(json.dumps({"text": "x" * 100}) + "\n")
    (src / "parallel-en-zh.tsv").write_text("".join(f"{i}\ta\tb\n" for i in range(10)))
    sweep.pack(str(tmp_path / "c"), str(src), chars={"en": 1000, "zh": 10}, pairs=3)
    lines = gzip.open(tmp_path / "c" / "en.jsonl.gz", "rt").read().splitlines()
    assert 9 <= len(lines) <= 10 and len(open(tmp_path / "c" / "parallel-en-zh.tsv").readlines()) == 3
    assert os.path.isfile(tmp_path / "c" / "cedict_1_0_ts_utf-8_mdbg.txt.gz")


def test_mini_calls_fit_their_minutes_core_seeds_first():
    """`make mini DRY=1`: each call of the mini run at most call_minutes (8) by the estimate,
    the core (every seed, seed by seed) before the rest of the protocol, every run in one call."""
    import subprocess
    import sys
    r = subprocess.run(["make", "-C", ROOT, "mini", "DRY=1", f"PY={sys.executable}", "DATA="], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    calls = [line for line in r.stdout.splitlines() if line.startswith("call ")]
    minutes = [float(line.split("estimated ")[1].split()[0]) for line in calls]
    assert len(calls) >= 2 and all(0 < m <= 8 for m in minutes), calls
    assert calls[0].startswith("call 1 of") and "s1337" in calls[0]
    core = r.stdout.split("sweep.py mini tune")[0]
    assert "lrl-only s1337" in core and "scalex s1338" in core and "order" not in core.split("call 1")[1]
    sw = sweep.load_sweep("mini")
    runs = sweep.runs_of("mini", ["lrl-only", "mix", "scalex"], sw["seeds"], sw)
    split = sweep.calls_of("mini", runs, sw, 4)
    got = [run for c in split for run in c[0]]
    assert sorted(map(str, got)) == sorted(map(str, runs))  # every run, once
    assert [run[3] for run in got] == sorted(run[3] for run in got)  # seed by seed


def test_a_call_stops_its_runs_at_the_deadline(tmp_path, capsys, monkeypatch):
    """Past a call's time limit the runs still going are stopped (they resume next call), not failed."""
    import time
    fake = tmp_path / "py"  # stands in for python: a run that would outlast the call
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    sw = sweep.load_sweep("smoke")
    os.symlink(os.path.join(ROOT, "config"), tmp_path / "config")  # the runs' configs, as in a clone
    monkeypatch.chdir(tmp_path)  # the run logs go to tmp_path/runs
    runs = [("mix", "joint", 60000, 1, {}), ("mix", "joint", 120000, 1, {})]
    t0 = time.time()
    failed = sweep.train_runs("smoke", runs, sw, 2, str(fake), deadline=time.time() + 1)
    assert failed == [] and time.time() - t0 < 20
    assert capsys.readouterr().out.count("stopped at the call's time limit") == 2
    with pytest.raises(SystemExit) as e:  # no default folder: --from is required
        sweep.main(["pack", str(tmp_path / "d")])
    assert e.value.code == 2 and not os.path.exists(tmp_path / "d")


def test_sweep_prints_run_k_of_n_and_a_sweep_eta(tmp_path, monkeypatch, capsys):
    """`[k/N] run ...` as each run starts and `[k/N] run ok` with the sweep's ETA as it ends,
    measured from the runs trained so far; a failed run is named. A stand-in python: fast."""
    os.symlink(os.path.join(ROOT, "config"), tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    fake = tmp_path / "py"
    fake.write_text('#!/bin/sh\nsleep 0.2\ncase "$*" in *en60000-s2*) exit 3;; esac\nexit 0\n')
    fake.chmod(0o755)
    sw = sweep.load_sweep("smoke")
    runs = sweep.runs_of("smoke", ["mix"], [1, 2], sw)
    assert len(runs) == 4
    failed = sweep.train_runs("smoke", runs, sw, 1, str(fake))
    out = capsys.readouterr().out.splitlines()
    starts = [l for l in out if l.startswith("[") and l.endswith(")") and " ... (" in l]
    assert [l.split()[0] for l in starts] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert "sweep ETA" in starts[0] and "measured" in starts[1]
    ends = [l for l in out if " ok (" in l or " FAILED (" in l]
    assert len(ends) == 4 and ends[-1].endswith("sweep done)") and "FAILED" in ends[2]
    assert failed == ["smoke/mix/joint-en60000-s2"]
    assert sweep.duration(59) == "59 s" and sweep.duration(125) == "2 min 05 s" and sweep.duration(7260) == "2 h 01 min"


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
@pytest.mark.parametrize("target", ["quickstart", "smoke", "mini", "mix"])
def test_make_dry_lists_runs_and_trains_nothing(target, tmp_path):
    """DRY=1 on a target that trains: the run list and totals, no training, no data, no report.
    VENV= keeps make from (re)building .venv; the python is this one."""
    before = set(glob.glob(os.path.join(ROOT, "runs", "*", "logs", "*.log")))
    p = subprocess.run(["make", "-s", target, "DRY=1", "VENV=", f"PY={sys.executable}", "DATA="],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "total:" in p.stdout and "tokens still to train" in p.stdout
    assert "data.py prepare" not in p.stdout and "train.py" not in p.stdout and "report" not in p.stdout
    assert set(glob.glob(os.path.join(ROOT, "runs", "*", "logs", "*.log"))) == before


def test_one_call_says_how_many_calls_there_are(capsys):
    """A call prints its own share with the number of calls in all (call 1 of 3)."""
    sweep.print_calls([([("mix", "joint", 1, 1337, {})], 60.0)], {"call_minutes": 8}, total=3)
    assert capsys.readouterr().out.startswith("call 1 of 3: 1 runs, estimated 1.0 min")
