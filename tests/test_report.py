"""report.py: grouping into experiment points, the report end to end, and `eval.py plot`
(claims.py's verdicts and fit: test_claims.py)."""
import json
import os

import pytest

from scalex import claims
from scalex import report
from conftest import run, tiny_run_config
from rows import NB, curve_runs, plateau, rec

# --- grouping ------------------------------------------------------------------------------
def test_rows_count_distinct_seeds_and_flag_a_repeated_seed():
    runs = [rec("mix", 1000, 2.0, seed=1), rec("mix", 1000, 2.2, seed=2),
            rec("mix", 1000, 2.0, seed=1, dir="/r/x/copy-of-s1")]
    [row] = report.group_runs(runs)
    assert row["seeds"] == 2
    assert row["bpb"]["zh"][0] == pytest.approx(2.1)  # the copy is not counted twice
    assert any("seed 1 found 2x" in f and "counted once" in f for f in row["flags"])


def test_different_plans_budgets_or_data_are_separate_rows():
    runs = [rec("mix", 1000, 2.0, seed=1), rec("mix", 1000, 2.1, seed=2, plan_sha="other"),
            rec("mix", 1000, 2.1, seed=3, data_dir="data/other"), rec("mix", 1000, 2.1, seed=4, world_size=8),
            rec("mix", 1000, 2.1, seed=5, budget={"en": 1000, "zh": 500})]
    rows = report.group_runs(runs)
    assert len(rows) == 5 and all(r["seeds"] == 1 for r in rows)
    labels = sorted(r["label"] for r in rows)  # the table and plot say what tells the rows apart
    assert labels[0].startswith("mix (budget {") and "plan_sha other" in " ".join(labels) and "world_size 8" in " ".join(labels)


def test_a_row_whose_seeds_trained_different_steps_is_flagged_not_hidden():
    [row] = report.group_runs([rec("mix", 1000, 2.0, seed=1), rec("mix", 1000, 2.0, seed=2, steps=12)])
    assert row["steps"] is None and "steps differ between seeds" in row["flags"]
    assert "| varies |" in report.experiment_table([row])


def test_old_summary_falls_back_to_config_json(tmp_path):
    d = tmp_path / "runs" / "mix-en1000-s7"
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"method": "mix", "hrl": "en", "lrl": "zh", "budget": {"en": 1000, "zh": 10},
                                                "val_bpb": {"en": 1.0, "zh": 2.0}, "steps": 3, "m3": {"k": 2.5}}))
    plan = {"block_size": 8, "seqs_per_step": 2, "tokens_per_step": 16, "world_size": 1,
            "stages": [{"name": "s", "lr": "cosine", "start_step": 0, "steps": 3, "seqs": {"zh": 6}, "lr_from": 1, "lr_to": 0}]}
    (d / "config.json").write_text(json.dumps({"config": {"seed": 7, "data_dir": "data/q", "model": "tiny"}, "plan": plan,
                                               "tokenizer": {"variant": "joint", "sha256": "abc"}}))
    [r] = report.load_runs(str(tmp_path / "runs"))
    assert (r["seed"], r["data_dir"], r["model"], r["tok_sha"], r["experiment"]) == (7, "data/q", "tiny", "abc", "runs")
    assert r["plan_sha"] == report.plan_sha256(plan) and len(r["plan_sha"]) == 64
    # older runs: the joint baseline was called mix; epochs from m3.k; no OOD score
    assert (r["method"], r["lrl_epochs"], r["ood_bpb"], r["compute_key"]) == ("joint", 2.5, {}, None)


# --- end to end ----------------------------------------------------------------------------
def write_run(root, r):
    d = os.path.join(root, r["experiment"], os.path.basename(r["dir"]))
    os.makedirs(d)
    s = {"run_name": os.path.basename(d), "method": r["method"], "hrl": "en", "lrl": "zh", "budget": r["budget"],
         "val_bpb": r["val_bpb"], "val_bpb_se": {"zh": 0.001}, "tokens_seen": r["tokens_seen"], "steps": r["steps"],
         "params": 100, "experiment": r["experiment"], "seed": r["seed"], "data_dir": r["data_dir"],
         "tokenizer": {"variant": r["tok_variant"], "sha256": r["tok_sha"]}, "plan_sha256": r["plan_sha"], "world_size": 1, "model": "tiny",
         "transform_quality": r["transform"], "derived": r["derived"], "compute_key": r["compute_key"],
         "ood_bpb": {"zh": r["val_bpb"]["zh"] + 0.5}, "lrl_epochs": 2.0}
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    if r["budget"]["en"] == 1_600_000 and r["method"] in ("scalex", "joint", "lrl_only"):  # the learning curves
        plan = {"tokens_per_step": 100, "stages": [{"name": "hrl", "start_step": 0}, {"name": "mix", "start_step": 4}]}
        json.dump({"config": {}, "plan": plan}, open(os.path.join(d, "config.json"), "w"))
        with open(os.path.join(d, "metrics.jsonl"), "w") as f:
            for step in (2, 4, 6, 8):
                f.write(json.dumps({"step": step, "val_loss": {"zh": 1.0}, "val_bpb": {"zh": r["val_bpb"]["zh"] + 1 / step}}) + "\n")
    if r["method"] == "scalex":
        json.dump({"tasks": {"xnli-zh": {"lang": "zh", "n": 100, "acc": 0.4 + 0.01 * r["seed"], "acc_ci95": [0.3, 0.5]}}},
                  open(os.path.join(d, "downstream.json"), "w"))
        json.dump({"wiki-zh": {"lang": "zh", "bpb": 2.5, "se": 0.01, "tokens": 10, "bytes": 30}}, open(os.path.join(d, "bpb_extra.json"), "w"))


def test_report_end_to_end_claims_table_and_determinism(tmp_path):
    root = str(tmp_path / "runs")
    runs = (curve_runs("joint", [2.0] * 5, experiment="mix") + curve_runs("scalex", [1.98, 1.95, 1.9, 1.85, 1.8], experiment="scalex")
            + curve_runs("lrl_only", [2.1] * 5, experiment="lrl-only") + plateau("translate", 3.0)[:0]
            + [dict(r, experiment="translate", budget=dict(r["budget"], zh_translated=r["budget"]["en"]),
                    derived={"zh_translated": "translate of en (dict)"}) for r in plateau("translate", 3.0)])
    for r in runs:
        write_run(root, r)
    text, md, pngs = report.report(root, n_boot=NB)
    verdict = {ln.split(" | ")[0][2:]: ln.split(" | ")[-1].strip(" |") for ln in text.splitlines() if ln.startswith("| (")}
    assert verdict["(a) data transformation (translate, codeswitch) does not keep scaling"] == f"**{claims.UNTESTABLE}**"
    assert verdict["(c) ScaleX beats joint, the compute-matched and the best LRL-only; margin over joint grows with HRL size"] == \
        "**supported**; beats joint: supported; beats compute-matched lrl_only: supported; beats best LRL-only: supported; " \
        "margin over joint grows: supported"
    assert verdict["(b) knowledge transfer (joint, order, proportion, scalex) scales with HRL data"] == \
        "**joint: inconclusive: flat; scalex: inconclusive: power law rejected by the lack-of-fit test**"  # it accelerates in log D
    assert verdict["(d) the LR schedule matters (constant stage 1 vs cosine vs WSD; joint under ScaleX's schedule)"] == f"**{claims.NOTRUN}**"
    assert "Holm p=" in text and "OOD +0." in text  # p-values, and the out-of-domain test beside val
    assert "## Experiment: scalex" in text and "| wiki-zh bpb |" in text and "| xnli-zh acc |" in text and "| zh OOD bpb |" in text
    assert "0.4200 ± (seeds) 0.0100" in text  # accuracy: mean over the three seeds
    one = report.group_runs([dict(r, bpb_extra={"wiki": {"lang": "zh", "bpb": 2.5, "se": 0.01}}) for r in runs[:1]])
    assert "| 2.5000 (SE 0.0100) |" in report.experiment_table(one)
    row = next(ln for ln in text.splitlines() if ln.startswith("| scalex | 1,600,000"))
    assert "**1.8000 ± 0.0040**" in row and "| 2.3000 ± 0.0040 |" in row and "| 0.0010 |" in row and "| 3 |" in row
    assert sorted(os.path.basename(p) for p in pngs) == ["report-curves.png", "report-lrl-only.png", "report-mix.png",
                                                         "report-scalex.png", "report-translate.png", "report.png"]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in pngs)
    first = [open(p, "rb").read() for p in [md] + pngs]
    report.report(root, n_boot=NB)
    assert [open(p, "rb").read() for p in [md] + pngs] == first


def test_report_cli_on_nothing_and_on_a_damaged_summary(tmp_path):
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: report: no finished run")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text('{"method": "mi')
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "summary.json: not valid JSON" in r.stderr
    (tmp_path / "a" / "summary.json").write_text('{"method": "mix", "hrl": "en", "budget": {"zh": 1}, "val_bpb": {}}')
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "budget has no entry for the hrl 'en'" in r.stderr
    r = run("eval.py", "report", tmp_path, "--bootstrap=-1")
    assert r.returncode == 2 and "--bootstrap=-1" in r.stderr


def test_colours_are_fixed_per_method():
    assert report.color("scalex") == "#d62728" and report.color("mix") == report.color("joint")
    assert report.color("some_new_method") == report.color("some_new_method")


# --- eval.py plot ----------------------------------------------------------------------------
def test_plot_run_and_its_bad_input(tmp_path):
    rd = tmp_path / "run"
    rd.mkdir()
    plan = {"tokens_per_step": 64, "stages": [{"name": "hrl", "start_step": 0, "steps": 4}, {"name": "mix", "start_step": 4, "steps": 4}]}
    (rd / "config.json").write_text(json.dumps({"config": {}, "plan": plan}))
    recs = [{"step": s, "stage": "hrl" if s <= 4 else "mix", "lr": 1e-3, "loss": 3.0 - 0.1 * s,
             "train_loss": {"en": 3.0 - 0.1 * s, **({"zh": 4.0 - 0.1 * s} if s > 4 else {})}, "tokens_seen": {"en": 64 * s}}
            for s in range(1, 9)] + [{"step": 8, "val_loss": {"en": 2.5, "zh": 3.5}, "val_bpb": {"en": 1.0, "zh": 2.0}}]
    (rd / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = run("eval.py", "plot", rd)
    assert r.returncode == 0, r.stderr
    assert open(rd / "plot.png", "rb").read(4) == b"\x89PNG"
    (rd / "metrics.jsonl").write_text(json.dumps(recs[0]) + "\n" + '{"step": 2, "lo')
    r = run("eval.py", "plot", rd)
    assert r.returncode == 2 and "metrics.jsonl: line 2 is not a metrics record" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (rd / "metrics.jsonl").write_text(json.dumps(recs[0]) + "\n" + json.dumps({"step": 2, "train_loss": 3.0, "lr": 1}) + "\n")
    r = run("eval.py", "plot", rd)
    assert r.returncode == 2 and "line 2 is not a metrics record" in r.stderr
    r = run("eval.py", "plot", tmp_path / "nope")
    assert r.returncode == 2 and "plot: no " in r.stderr


def test_report_and_plot_read_what_train_py_writes(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0], extra="eval_interval = 4")
    assert run("train.py", cfg).returncode == 0
    rd = tmp_path / "runs" / "t"
    r = run("eval.py", "report", tmp_path / "runs", "--bootstrap=0")
    assert r.returncode == 0, r.stderr
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("| run |"))  # method = the config file's name
    assert "| 16,000 | 6,000 |" in row and "| 1 |" in row  # budgets and one seed, read from the real run record
    r = run("eval.py", "plot", rd)
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(rd / "plot.png") > 10_000
