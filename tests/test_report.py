"""report.py: grouping into experiment points, the scaling-law fit, every claim's verdict on
synthetic runs whose answers are known, the report end to end, and `eval.py plot`."""
import json
import os

import pytest

import claims
import report
from conftest import run, tiny_run_config

NB = 40  # bootstrap resamples in tests: enough for an interval, fast on 2 cores


def rec(method, hrl, zh, seed=1, experiment="x", en=1.5, **kw):
    """A run record as report.load_run returns it."""
    r = {"dir": f"/r/{experiment}/{method}-en{hrl}-s{seed}", "method": method, "hrl": "en", "lrls": ["zh"],
         "budget": {"en": hrl, "zh": 1000}, "experiment": experiment, "seed": seed, "data_dir": "data/q",
         "tok_variant": "joint", "tok_sha": "t1", "plan_sha": f"p-{method}-{hrl}", "world_size": 1, "model": "tiny",
         "params": 100, "val_bpb": {"en": en, "zh": zh}, "val_bpb_se": {}, "steps": 10,
         "tokens_seen": {"en": hrl, "zh": 1000}, "val_tokens": None, "derived": {}, "transform": {},
         "downstream": {}, "bpb_extra": {}}
    r.update(kw)
    return r


def law(d, E=1.0, A=0.8, alpha=0.5):
    return E + A * (d / 1e5) ** -alpha


SIZES = [100_000, 200_000, 400_000, 800_000, 1_600_000]


def curve_runs(method, values, noise=0.004, seeds=(1, 2), **kw):
    """Two seeds at each size, +-noise around the given value: a seed spread of noise*sqrt(2)."""
    return [rec(method, d, v + (noise if s == seeds[0] else -noise), seed=s, **kw)
            for d, v in zip(SIZES, values) for s in seeds]


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
    (d / "summary.json").write_text(json.dumps({"method": "joint", "hrl": "en", "lrl": "zh", "budget": {"en": 1000, "zh": 10},
                                                "val_bpb": {"en": 1.0, "zh": 2.0}, "steps": 3}))
    plan = {"block_size": 8, "seqs_per_step": 2, "tokens_per_step": 16, "world_size": 1,
            "stages": [{"name": "s", "lr": "cosine", "start_step": 0, "steps": 3, "seqs": {"zh": 6}, "lr_from": 1, "lr_to": 0}]}
    (d / "config.json").write_text(json.dumps({"config": {"seed": 7, "data_dir": "data/q", "model": "tiny"}, "plan": plan,
                                               "tokenizer": {"variant": "joint", "sha256": "abc"}}))
    [r] = report.load_runs(str(tmp_path / "runs"))
    assert (r["seed"], r["data_dir"], r["model"], r["tok_sha"], r["experiment"]) == (7, "data/q", "tiny", "abc", "runs")
    assert r["plan_sha"] == report.plan_sha256(plan) and len(r["plan_sha"]) == 64


# --- the fit -------------------------------------------------------------------------------
def test_fit_recovers_a_known_alpha_with_an_interval_around_it():
    pts = [(d, [law(d) + 0.003, law(d) - 0.003]) for d in SIZES]
    f = claims.fit_scaling(pts, n_boot=NB)
    assert f["status"] == "fitted" and f["alpha"] == pytest.approx(0.5, abs=0.05)
    assert f["E"] == pytest.approx(1.0, abs=0.05)
    assert f["ci"][0] < 0.5 < f["ci"][1] and f["ci"][0] > claims.ALPHA_MIN
    assert f["drop"] == pytest.approx(law(SIZES[0]) - law(SIZES[-1]), abs=0.01)
    assert claims.scales(f, 0.01) and not claims.scales(f, 1.0)  # a drop inside the spread is no scaling
    assert claims.fit_scaling(pts[:2])["status"] == "not fitted (needs 3 sizes)"


def test_bootstrap_is_deterministic():
    pts = [(d, [law(d) + 0.01, law(d) - 0.02]) for d in SIZES]
    assert claims.fit_scaling(pts, n_boot=NB) == claims.fit_scaling(pts, n_boot=NB)


# --- the claims ----------------------------------------------------------------------------
def scaling(method="mix", **kw):
    return curve_runs(method, [law(d) for d in SIZES], **kw)


def plateau(method, chrf):
    """Improves at first, then flat: the gain between the two largest sizes is ~0."""
    q = {"zh.translated": {"backend": "dict", "chrf": chrf, "translated_share": 0.9, "target_script_share": 0.9}}
    return curve_runs(method, [2.2, 2.0, 1.95, 1.95, 1.95], transform=q)


def test_b_a_method_that_scales_is_supported():
    c = claims.claim_knowledge(report.group_runs(scaling("mix")), NB)
    assert c["verdict"] == claims.SUP and c["numbers"].startswith("mix: alpha 0.5")


def test_b_a_method_inside_the_noise_is_inconclusive():
    flat = curve_runs("mix", [2.0, 2.01, 1.995, 2.005, 2.0], noise=0.02)
    assert claims.claim_knowledge(report.group_runs(flat), NB)["verdict"] == claims.NOISE


def test_b_a_method_that_gets_worse_is_not_supported():
    worse = curve_runs("mix", [2.0, 2.1, 2.2, 2.3, 2.4])
    assert claims.claim_knowledge(report.group_runs(worse), NB)["verdict"] == claims.NOT


def test_b_single_seed_is_inconclusive_not_a_win():
    one = curve_runs("mix", [law(d) for d in SIZES], seeds=(1,))
    assert claims.claim_knowledge(report.group_runs(one), NB)["verdict"] == claims.ONE


def test_a_plateau_beside_a_scaling_method_is_supported():
    c = claims.claim_transform(report.group_runs(plateau("translate", 45.0) + scaling("mix")), NB)
    assert c["verdict"] == claims.SUP
    assert "translator dict, chrF 45.0" in c["numbers"] and "gain 800k->1.6M +0.0000" in c["numbers"]


def test_a_flat_translation_beside_a_fit_that_scales_is_supported():
    flat = curve_runs("translate", [2.0] * 5, transform={"zh.t": {"backend": "opus", "chrf": 50.0}})
    steady = curve_runs("mix", [law(d, A=0.2, alpha=2.0) for d in SIZES])  # its tail gain is inside the noise
    c = claims.claim_transform(report.group_runs(flat + steady), NB)
    assert c["verdict"] == claims.SUP and "mix gain there +0.0023" in c["numbers"]
    assert "knowledge transfer that scales by its fit: mix" in c["numbers"]


def test_a_translation_that_keeps_scaling_is_not_supported():
    q = {"zh.translated": {"backend": "opus", "chrf": 50.0}}
    c = claims.claim_transform(report.group_runs(scaling("translate", transform=q) + scaling("mix")), NB)
    assert c["verdict"] == claims.NOT


def test_a_translator_below_the_chrf_threshold_cannot_test_the_claim():
    rows = report.group_runs(plateau("translate", 2.5) + plateau("codeswitch", None) + scaling("mix"))
    c = claims.claim_transform(rows, NB)
    assert c["verdict"] == claims.UNTESTABLE and c["numbers"].count("chrF 2.5") == 2
    c = claims.claim_transform(report.group_runs(plateau("codeswitch", None) + scaling("mix")), NB)
    assert c["verdict"] == claims.UNTESTABLE and "translator dict, chrF not recorded" in c["numbers"]


def test_a_codeswitch_borrows_the_chrf_of_its_translator():
    rows = report.group_runs(plateau("translate", 45.0) + plateau("codeswitch", None) + scaling("mix"))
    c = claims.claim_transform(rows, NB)
    assert c["verdict"] == claims.SUP and c["numbers"].count("chrF 45.0") == 2


def test_claims_without_their_experiments_are_not_run():
    rows = report.group_runs(scaling("mix"))
    for f in (claims.claim_transform, claims.claim_scalex, claims.claim_schedule, claims.claim_tokens, claims.claim_multilingual):
        assert f(rows, NB)["verdict"] == claims.NOTRUN, f.__name__


def test_c_scalex_with_a_growing_margin_is_supported_and_a_loser_is_not():
    base = curve_runs("mix", [2.0] * 5, experiment="mix") + curve_runs("lrl_only", [2.1] * 5, experiment="lrl-only")
    win = curve_runs("scalex", [1.98, 1.95, 1.9, 1.85, 1.8], experiment="scalex")
    c = claims.claim_scalex(report.group_runs(base + win), NB)
    assert c["verdict"] == claims.SUP
    assert "100k: scalex 1.9800 mix 2.0000 (margin +0.0200) lrl_only 2.1000 (margin +0.1200)" in c["numbers"]
    lose = curve_runs("scalex", [2.05] * 5, experiment="scalex")
    assert claims.claim_scalex(report.group_runs(base + lose), NB)["verdict"] == claims.NOT
    steady = curve_runs("scalex", [1.95] * 5, experiment="scalex")  # wins, but the margin does not grow
    assert claims.claim_scalex(report.group_runs(base + steady), NB)["verdict"].startswith(claims.NOISE)
    short = [dict(r, steps=8) if r["method"] == "lrl_only" else r for r in base] + win  # 20% fewer steps
    c = claims.claim_scalex(report.group_runs(short), NB)
    assert "lrl_only 2.1000 (margin +0.1200) [steps 8 vs 10: not compute-matched]" in c["numbers"]
    assert c["verdict"] == "inconclusive: a baseline is not compute-matched"


def test_d_schedule_matters_when_a_variant_differs_beyond_the_spread():
    rows = report.group_runs([rec("scalex", 1000, 2.0, s, "ablate-lr") for s in (1, 2)]
                             + [rec("scalex", 1000, 2.002, 3, "ablate-lr")]
                             + [rec("scalex_cosine", 1000, 2.1 + 0.001 * s, s, "ablate-lr") for s in (1, 2)]
                             + [rec("scalex_wsd", 1000, 2.0 + 0.001 * s, s, "ablate-lr") for s in (1, 2)])
    c = claims.claim_schedule(rows, NB)
    assert c["verdict"] == claims.SUP and "scalex vs scalex_cosine at 1,000: 2.0007 vs 2.1015 (spread 0.0012)" in c["numbers"]
    assert "scalex vs scalex_wsd at 1,000: 2.0007 vs 2.0015" in c["numbers"]
    inside = [r for r in rows if r["method"] != "scalex_cosine"]  # WSD alone: inside the spread
    assert claims.claim_schedule(inside, NB)["verdict"] == claims.NOISE


def test_e_disjoint_worse_beyond_the_spread_is_supported():
    runs = []
    for variant, v in (("joint", 2.0), ("disjoint", 2.1)):
        for m in ("scalex", "mix"):
            runs += [rec(m, 1000, v + 0.002 * s, s, "ablate-tokens", tok_variant=variant, tok_sha=variant,
                         data_dir=f"data/{variant}") for s in (1, 2)]
    c = claims.claim_tokens(report.group_runs(runs), NB)
    assert c["verdict"] == claims.SUP and "scalex joint vs disjoint at 1,000: 2.0030 vs 2.1030" in c["numbers"]


def test_f_multilingual_verdict_per_language():
    def ml(m, zh, ja, s):
        return rec(m, 1000, zh + 0.001 * s, s, "multilingual", lrls=["zh", "ja"], budget={"en": 1000, "zh": 100, "ja": 100},
                   val_bpb={"en": 1.5, "zh": zh + 0.001 * s, "ja": ja + 0.001 * s})
    rows = report.group_runs([ml("scalex", 2.0, 2.5, s) for s in (1, 2)] + [ml("mix", 2.1, 2.5005, s) for s in (1, 2)])
    c = claims.claim_multilingual(rows, NB)
    assert c["verdict"] == f"zh at 1,000: {claims.SUP}; ja at 1,000: {claims.NOISE}"


# --- end to end ----------------------------------------------------------------------------
def write_run(root, r):
    d = os.path.join(root, r["experiment"], os.path.basename(r["dir"]))
    os.makedirs(d)
    s = {"run_name": os.path.basename(d), "method": r["method"], "hrl": "en", "lrl": "zh", "budget": r["budget"],
         "val_bpb": r["val_bpb"], "val_bpb_se": {"zh": 0.001}, "tokens_seen": r["tokens_seen"], "steps": r["steps"],
         "params": 100, "experiment": r["experiment"], "seed": r["seed"], "data_dir": r["data_dir"],
         "tokenizer": {"variant": r["tok_variant"], "sha256": r["tok_sha"]}, "plan_sha256": r["plan_sha"], "world_size": 1, "model": "tiny",
         "transform_quality": r["transform"], "derived": r["derived"]}
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    if r["method"] == "scalex":
        json.dump({"tasks": {"xnli-zh": {"lang": "zh", "n": 100, "acc": 0.4 + 0.01 * r["seed"], "acc_ci95": [0.3, 0.5]}}},
                  open(os.path.join(d, "downstream.json"), "w"))
        json.dump({"wiki-zh": {"lang": "zh", "bpb": 2.5, "se": 0.01, "tokens": 10, "bytes": 30}}, open(os.path.join(d, "bpb_extra.json"), "w"))


def test_report_end_to_end_claims_table_and_determinism(tmp_path):
    root = str(tmp_path / "runs")
    runs = (curve_runs("mix", [2.0] * 5, experiment="mix") + curve_runs("scalex", [1.98, 1.95, 1.9, 1.85, 1.8], experiment="scalex")
            + curve_runs("lrl_only", [2.1] * 5, experiment="lrl-only") + plateau("translate", 3.0)[:0]
            + [dict(r, experiment="translate", budget=dict(r["budget"], zh_translated=r["budget"]["en"]),
                    derived={"zh_translated": "translate of en (dict)"}) for r in plateau("translate", 3.0)])
    for r in runs:
        write_run(root, r)
    text, md, pngs = report.report(root, n_boot=NB)
    verdict = {ln.split(" | ")[0][2:]: ln.split(" | ")[-1].strip(" |*") for ln in text.splitlines() if ln.startswith("| (")}
    assert verdict["(a) data transformation (translate, codeswitch) does not keep scaling"] == claims.UNTESTABLE
    assert verdict["(c) ScaleX beats mix and compute-matched LRL-only, margin grows with HRL size"] == claims.SUP
    assert verdict["(b) knowledge transfer (mix, order, proportion, scalex) scales with HRL data"] == \
        f"mix: {claims.NOISE}; scalex: {claims.SUP}"
    assert verdict["(d) the LR schedule matters (constant stage 1 vs cosine vs WSD; mix under ScaleX's schedule)"] == claims.NOTRUN
    assert "## Experiment: scalex" in text and "| wiki-zh bpb |" in text and "| xnli-zh acc |" in text
    assert "0.4150 ± (seeds) 0.0071" in text  # accuracy: mean over the two seeds
    one = report.group_runs([dict(r, bpb_extra={"wiki": {"lang": "zh", "bpb": 2.5, "se": 0.01}}) for r in runs[:1]])
    assert "| 2.5000 (SE 0.0100) |" in report.experiment_table(one)
    row = next(ln for ln in text.splitlines() if ln.startswith("| scalex | 1,600,000"))
    assert "**1.8000 ± 0.0057**" in row and "| 0.0010 |" in row and "| 2 |" in row
    assert sorted(os.path.basename(p) for p in pngs) == ["report-lrl-only.png", "report-mix.png", "report-scalex.png",
                                                         "report-translate.png", "report.png"]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in pngs)
    first = open(md, "rb").read()
    report.report(root, n_boot=NB)
    assert open(md, "rb").read() == first


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
