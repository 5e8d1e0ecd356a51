"""The run table (table.py), the report end to end (report.py, plots.py) and `eval.py plot`
(the verdicts themselves: test_claims.py)."""
import csv
import json
import os
import random
import re

import pytest

from scalex import report, table
from scalex.configurator import ConfigError
from scalex.power import runs, truth
from conftest import ROOT, run, tiny_run_config

EXPERIMENT = {"scalex": "scalex", "joint": "mix", "lrl_only": "lrl-only", "lrl_only_epochs": "lrl-only",
              "translate": "translate", "scalex_cosine": "ablate-lr", "scalex_wsd": "ablate-lr"}


def write_run(root, r):
    """A synthetic table row as the files train.py writes (summary, config, metrics)."""
    exp = ("ablate-tokens" if r["tokenizer"] == "disjoint" else "multilingual" if "," in r["lrls"]
           else EXPERIMENT[r["method"]])
    name = f"{r['method']}-en{r['budget.en']}-e{r['lrl_epochs']}-{r['tokenizer']}-{len(r['lrls'])}-s{r['seed']}"
    d = os.path.join(root, exp, name)
    os.makedirs(d)
    langs = r["lrls"].split(",")
    budget = {"en": r["budget.en"], **{l: 20_000 for l in langs}}
    split = lambda s: {l: r[f"{s}.{l}"] for l in langs} | ({"en": 3.0} if s == "val" else {})
    s = {"method": r["method"], "hrl": "en", "lrl": "zh", "budget": budget, "steps": 10,
         "val_bpb": split("val"), "test_bpb": split("test"), "ood_bpb": split("ood"),
         "tokens_seen": {"en": r["tokens"] - 80_000, "zh": 80_000}, "params": 1000, "wall_s": 2.0,
         "plan_sha256": f"plan-{name[:-6]}", "world_size": 1,
         **({"transform_quality": {"zh_translated": {"chrf": r["chrf"], "backend": "mt"}}} if r.get("chrf") else {})}
    cfg = {k: r[k] for k in ("method", "hrl", "lrl", "lrl_epochs", "model")}
    cfg.update(budget=budget, seed=r["seed"], experiment=exp, run_name=name, vocab_size=r.get("vocab_size", 2048))
    plan = {"tokens_per_step": 100, "stages": [{"name": "hrl", "start_step": 0, "epochs_end": {}},
                                               {"name": "mix", "start_step": 4, "epochs_end": {"zh": 4.0}}]}
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    json.dump({"config": cfg, "plan": plan, "tokenizer": {"variant": r["tokenizer"], "sha256": r["tokenizer"]},
               "code": {"git_commit": "abc1234def", "git_dirty": False}}, open(os.path.join(d, "config.json"), "w"))
    with open(os.path.join(d, "metrics.jsonl"), "w") as f:
        for step in (5, 10):
            f.write(json.dumps({"step": step, "val_loss": {"zh": 1.0}, "tokens_seen": {"en": 100 * step, "zh": 0},
                                "val_bpb": s["val_bpb"] if step == 10 else {"zh": 4.0}, "ood_bpb": s["ood_bpb"]}) + "\n")
    return d


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("r") / "runs")
    rows = runs(truth(0.05), 5, 0.004, random.Random(0))
    for r in rows:
        write_run(root, r)
    text, md, files = report.report(root)
    return root, rows, text, md, files


def test_the_answer_fits_on_one_screen(built):
    root, rows, text, md, files = built
    head = text.splitlines()[:40]
    assert report.BEGIN in head and report.END in head
    assert head[3].startswith("**Answer.**") and "supported" in head[3]
    assert any(l.startswith("**Setting.**") and f"{len(rows)} runs" in l and "abc1234def" in l for l in head)
    assert sum(l.startswith("| zh bpb on ") for l in head) == 2  # test and ood, as separate tables
    assert sum(l.startswith("- (") for l in head) == 6  # one verdict line per claim
    assert any(l.startswith("| **scalex - best baseline** [95% CI], raw p |") for l in head)


def test_cells_are_short_and_no_label_is_a_hash(built):
    text = built[2]
    cells = [c for l in text.splitlines() if l.startswith("|") for c in l.split(" | ")]
    assert max(map(len, cells)) <= 300
    assert not re.search(r"[0-9a-f]{16}", text) and "plan" not in text.lower().replace("explain", "")


def test_experiments_come_in_the_papers_order_and_labels_say_what_differs(built):
    text = built[2]
    exps = re.findall(r"^## Experiment: (\S+)", text, re.M)
    assert exps == ["lrl-only", "mix", "scalex", "translate", "ablate-lr", "ablate-tokens", "multilingual"]
    assert "| scalex, tokenizer disjoint, vocab_size 4096 |" in text and "| lrl_only_epochs, lrl_epochs 8 |" in text
    assert "## Definitions" in text and "negative" in text.split("## Definitions")[1]  # the sign convention


def test_figures_and_csv_and_bytes_are_stable(built):
    root, rows, text, md, files = built
    names = sorted(os.path.basename(f) for f in files)
    assert "report.png" in names and "report-curves.png" in names and "runs.csv" in names
    assert all(open(f, "rb").read(4) == b"\x89PNG" for f in files if f.endswith(".png"))
    with open(os.path.join(root, "runs.csv")) as f:
        got = list(csv.DictReader(f))
    assert len(got) == len(rows) and {"method", "budget.en", "seed", "test.zh", "ood.zh"} <= set(got[0])
    assert not any(os.path.isabs(r["dir"]) for r in got)
    first = [open(f, "rb").read() for f in [md] + files]
    report.report(root)
    assert [open(f, "rb").read() for f in [md] + files] == first


@pytest.mark.parametrize("seeds", [1, 2])
def test_a_report_of_too_few_seeds_says_so(tmp_path, seeds):
    """One or two seeds (make quickstart, make smoke): no p anywhere, every verdict not testable."""
    for r in runs(truth(0.05), seeds, 0.01, random.Random(0)):
        write_run(str(tmp_path), r)
    text = report.report(str(tmp_path))[0]
    head = text.splitlines()[:40]
    assert head[3].startswith("**Answer.**")
    assert ("no p" if seeds == 1 else "raw p=") in head[3]
    verdicts = [l for l in head if l.startswith("- (")]
    assert len(verdicts) == 6 and all("not testable" in l or "not run" in l for l in verdicts)


def test_equal_settings_with_different_plans_are_refused(tmp_path):
    rows = runs(truth(), 3, 0.01, random.Random(0))[:2]
    rows[1] = dict(rows[0], seed=2)
    for r in rows:
        write_run(str(tmp_path), r)
    s = next(tmp_path.rglob("*-s2/summary.json"))
    s.write_text(json.dumps(dict(json.loads(s.read_text()), plan_sha256="other")))
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "different plans" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_summary_that_disagrees_with_its_metrics_is_refused(tmp_path):
    d = write_run(str(tmp_path), runs(truth(), 1, 0.01, random.Random(0))[0])
    s = json.loads(open(os.path.join(d, "summary.json")).read())
    s["val_bpb"]["zh"] -= 0.1
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "val_bpb.zh" in r.stderr and "metrics" in r.stderr
    s["val_bpb"]["zh"] = "2.5"
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "val_bpb.zh" in r.stderr and "'2.5'" in r.stderr


def test_a_summary_of_an_unknown_dtype_is_refused(tmp_path):
    d = write_run(str(tmp_path), runs(truth(), 1, 0.01, random.Random(0))[0])
    s = json.loads(open(os.path.join(d, "summary.json")).read())
    json.dump(dict(s, dtype="fp8"), open(os.path.join(d, "summary.json"), "w"))
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "dtype" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_report_cli_on_nothing_and_on_a_damaged_summary(tmp_path):
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and "no finished run" in r.stderr
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text('{"method": "mi')
    r = run("eval.py", "report", tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "summary.json" in r.stderr
    with pytest.raises(ConfigError, match="no folder"):
        table.load(str(tmp_path / "nope"))


def test_the_readme_carries_the_committed_reports_answer():
    """README.md's answer block is the committed report's, so the two cannot disagree."""
    text = open(os.path.join(ROOT, "results", "quickstart", "report.md"), encoding="utf-8").read()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert report.answer_block(text, "results/quickstart/") in readme


def test_readme_sync_rewrites_only_the_block(tmp_path):
    md = tmp_path / "README.md"
    md.write_text(f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n")
    new = f"{report.BEGIN}\n**Answer.** x ![a](report.png)\n{report.END}"
    report.sync_readme(str(md), new, "results/q/")
    assert md.read_text() == f"intro\n{report.BEGIN}\n**Answer.** x ![a](results/q/report.png)\n{report.END}\noutro\n"
    md.write_text("no block here\n")
    with pytest.raises(ConfigError, match="answer block"):
        report.sync_readme(str(md), new, "results/q/")


# --- eval.py plot ----------------------------------------------------------------------------
def test_plot_run_and_its_bad_input(tmp_path):
    rd = tmp_path / "run"
    rd.mkdir()
    plan = {"tokens_per_step": 64, "stages": [{"name": "hrl", "start_step": 0, "steps": 4},
                                              {"name": "mix", "start_step": 4, "steps": 4}]}
    (rd / "config.json").write_text(json.dumps({"config": {}, "plan": plan}))
    recs = [{"step": s, "stage": "hrl" if s <= 4 else "mix", "lr": 1e-3, "loss": 3.0 - 0.1 * s,
             "train_loss": {"en": 3.0 - 0.1 * s, **({"zh": 4.0 - 0.1 * s} if s > 4 else {})},
             "tokens_seen": {"en": 64 * s}} for s in range(1, 9)]
    recs += [{"step": 8, "val_loss": {"en": 2.5, "zh": 3.5}, "val_bpb": {"en": 1.0, "zh": 2.0}}]
    (rd / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = run("eval.py", "plot", rd)
    assert r.returncode == 0, r.stderr
    assert open(rd / "plot.png", "rb").read(4) == b"\x89PNG"
    (rd / "metrics.jsonl").write_text(json.dumps(recs[0]) + "\n" + '{"step": 2, "lo')
    r = run("eval.py", "plot", rd)
    assert r.returncode == 2 and "metrics.jsonl: line 2" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("eval.py", "plot", tmp_path / "nope")
    assert r.returncode == 2 and "plot: no " in r.stderr


def test_report_and_plot_read_what_train_py_writes(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0], extra="eval_interval = 4")
    assert run("train.py", cfg).returncode == 0
    rd = tmp_path / "runs" / "t"
    r = run("eval.py", "report", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "runs" / "runs.csv") as f:
        [got] = list(csv.DictReader(f))
    assert (got["budget.en"], got["budget.zh"], got["seed"]) == ("16000", "6000", "1337")
    assert float(got["val.zh"]) > 0 and got["tokenizer"] == "joint"
    r = run("eval.py", "plot", rd)
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(rd / "plot.png") > 10_000
