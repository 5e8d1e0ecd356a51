"""claims.py on synthetic run tables whose truth is known (scalex/power.py builds them): each
way a verdict can mislead, asserted; and the false-positive rate under no effect."""
import random

import pytest

from scalex import claims, power, table
from scalex.power import SIZES, row, runs, truth


def verdicts(rows):
    return claims.verdicts(table.points(rows))


def seeded(means, n=3, sd=0.02, seed=0):
    return runs(means, n, sd, random.Random(seed))


def test_a_plateau_is_not_called_scaling():
    """3.0, 2.8, 2.75, 2.75: a gain over the range, none over the last doubling."""
    got = [verdicts(seeded(truth(plateau=[3.0, 2.8, 2.75, 2.75]), seed=i))["b"]["verdict"] for i in range(40)]
    assert sum(v.startswith(claims.SUP) for v in got) <= 2
    assert any(v.startswith("stops scaling at 400k") for v in got)  # the one definition of "stops"


def test_scaling_needs_the_range_and_the_last_step():
    v = verdicts(seeded(truth(plateau=[3.2, 3.0, 2.8, 2.6]), sd=0.005))["b"]
    assert v["verdict"] == "supported: it scales"
    assert "scalex gain 100k->800k" in v["sentence"]


def test_a_worse_method_is_never_said_to_beat_or_outgrow_joint():
    """ScaleX worse than joint at every size while it gains more from English: (c) is not
    supported, and no sentence calls the gain a margin."""
    m = truth()
    for i, s in enumerate(SIZES):
        m[("scalex", s, ())] = 3.3 - 0.05 * i   # gains 0.05 per doubling ...
        m[("joint", s, ())] = 3.0 - 0.02 * i    # ... but stays above joint
    v = verdicts(seeded(m, sd=0.005))
    assert v["c"]["verdict"] == claims.NOT
    assert "margin" not in v["c"]["sentence"]
    tests = v["c"]["by_set"]["test"]["tests"]
    gain = next(t for t in tests if t["name"].startswith("scalex gain minus joint gain"))
    assert gain["role"] == "secondary" and gain["delta"] < 0  # what was tested, named as such


def test_an_out_of_domain_set_against_the_claim_is_named():
    """In-domain: a little better, within noise; out-of-domain: ScaleX clearly worse."""
    rows = seeded(truth(), sd=0.02)
    for r in rows:
        if r["method"] == "scalex" and r["tokenizer"] == "joint" and r["lrls"] == "zh":
            r["ood.zh"] += 0.3
            r["test.zh"] -= 0.02
    v = verdicts(rows)["c"]
    assert v["by_set"]["test"]["verdict"] == claims.NOISE
    assert v["by_set"]["ood"]["verdict"] == claims.NOT
    assert "**disagrees**: ood: not supported" in v["sentence"]


def test_constant_differences_are_not_testable_not_certain():
    """Seed-independent runs: every seed gives the same 1e-6 difference, no p = 0."""
    rows = seeded(truth(), sd=0.0)
    for r in rows:
        if r["method"] == "scalex":
            r["test.zh"] -= 1e-6
    v = verdicts(rows)
    assert v["c"]["verdict"].startswith(claims.UNTESTABLE)
    assert all(t["p"] is None for t in v["c"]["by_set"]["test"]["tests"])


def test_an_effect_below_the_minimum_is_not_supported():
    rows = seeded(truth(), n=5, sd=0.0002)
    for r in rows:
        if r["method"] == "scalex" and r["tokenizer"] == "joint" and r["lrls"] == "zh":
            r["test.zh"] -= 0.005  # certain, but below MIN_EFFECT
    v = verdicts(rows)["c"]
    assert v["by_set"]["test"]["primary"]["p_adj"] < 1e-3
    assert v["verdict"] == f"{claims.NOT} (|delta| below the {claims.MIN_EFFECT:g} bpb minimum)"


def test_only_the_primary_decides_secondaries_carry_no_verdict():
    """A large win at a small size (secondary) does not make (c) supported; the primary is the
    largest size, and secondaries show raw p only."""
    m = truth()
    m[("scalex", SIZES[0], ())] -= 0.5
    v = verdicts(seeded(m, sd=0.01))["c"]
    tests = v["by_set"]["test"]["tests"]
    small = [t for t in tests if t["name"].endswith(" at 100k") and t["name"].startswith("scalex - ")]
    assert small and all(t["role"] == "secondary" and t["p"] < 0.01 for t in small)
    assert all(t["role"] == "primary" for t in tests if t["name"].endswith(" at 800k")
               and t["name"].startswith("scalex - "))
    assert v["verdict"] == claims.NOISE


def test_the_primary_of_several_parts_needs_every_part():
    """ScaleX beats joint and the compute-matched LRL-only but not the best LRL-only."""
    m = truth()
    top = SIZES[-1]
    m[("scalex", top, ())] -= 0.2
    m[("lrl_only_epochs", SIZES[0], (("lrl_epochs", 8),))] -= 0.2
    v = verdicts(seeded(m, sd=0.01))["c"]
    prim = [t for t in v["by_set"]["test"]["tests"] if t["role"] == "primary"]
    assert len(prim) == 4 and v["verdict"] == claims.NOISE  # joint, lrl_only, translate, best
    assert "best LRL-only" in v["by_set"]["test"]["primary"]["name"]  # the part that decided


def test_inconclusive_says_what_the_seeds_could_detect():
    v = verdicts(seeded(truth(), sd=0.03))["c"]
    assert v["verdict"] == claims.NOISE and "these seeds detect |delta| >= " in v["sentence"]


def test_missing_runs_are_not_run_and_weak_translators_not_testable():
    rows = [r for r in seeded(truth(0.05)) if r["method"] in ("scalex", "translate")
            and r["tokenizer"] == "joint" and r["lrls"] == "zh"]
    for r in rows:
        r["chrf"] = 3.0 if r["method"] == "translate" else None
    v = verdicts(rows)
    assert v["a"]["verdict"] == claims.UNTESTABLE and "chrF 3.0" in v["a"]["sentence"]
    assert v["d"]["verdict"] == claims.NOTRUN and v["e"]["verdict"] == claims.NOTRUN
    v = verdicts([r for r in rows if r["method"] == "scalex"])
    assert v["c"]["verdict"] == claims.NOTRUN  # no baseline at all


def test_a_part_against_the_claim_refutes_it_and_a_tiny_part_blocks_support():
    m = truth(0.1)
    m[("joint", SIZES[-1], ())] = m[("scalex", SIZES[-1], ())] - 0.3  # joint clearly better
    v = verdicts(seeded(m, n=5, sd=0.005))["c"]
    assert v["verdict"] == claims.NOT and "joint" in v["by_set"]["test"]["primary"]["name"]
    m = truth(0.1)
    m[("scalex", SIZES[-1], ())] = m[("joint", SIZES[-1], ())] - 0.004  # beats joint by a hair
    v = verdicts(seeded(m, n=5, sd=0.0005))["c"]
    assert v["verdict"].startswith(f"{claims.NOT} (|delta| below")


def test_the_mde_gives_the_stated_power():
    """A true effect of exactly the printed MDE is found about POWER of the time."""
    t = {"n": 5, "sd": 0.02}
    d = claims.mde(t, 0.05)
    rng, hits = random.Random(3), 0
    for _ in range(2000):
        x = [d + rng.gauss(0, 0.02) for _ in range(5)]
        hits += claims.compare("x", [(1, {"runs": {i: {"test.zh": v} for i, v in enumerate(x)}})],
                               "test", "zh")["p"] < 0.05
    assert abs(hits / 2000 - claims.POWER) < 0.04


def test_two_seeds_are_not_testable():
    assert verdicts(seeded(truth(0.05), n=2))["c"]["verdict"].startswith(claims.UNTESTABLE)


def test_verdicts_read_test_and_val_picks_the_best_lrl_only():
    """The best LRL-only is the sweep's point of lowest val, even when another is lower on test."""
    rows = seeded(truth(), sd=0.001)
    for r in rows:
        if r["method"] == "lrl_only_epochs" and r["lrl_epochs"] == 2:
            r["test.zh"] -= 0.5  # best on test, not on val: never picked
    pts = table.points(rows)
    dev = claims.deviations(pts)
    best = claims.best_lrl_only(pts, dev, claims.curve(pts, dev, "scalex")[-1])
    assert best["lrl_epochs"] == 8
    assert claims.judged_sets(pts) == ["test", "ood"]
    no_test = [{k: v for k, v in r.items() if not k.startswith("test.")} for r in rows]
    assert claims.judged_sets(table.points(no_test)) == ["val", "ood"]


def test_holm_is_across_the_claims_primaries():
    v = verdicts(seeded(truth(0.05), n=5, sd=0.01))
    prim = [claims.iut([t for t in c["by_set"]["test"]["tests"] if t["role"] == "primary"])
            for c in v.values()]
    ps = sorted(t["p"] for t in prim)
    assert len(prim) == 6 and max(t["p_adj"] for t in prim) >= ps[-1]
    assert min(t["p_adj"] for t in prim) == pytest.approx(min(1, ps[0] * 6))
    assert all(c["verdict"].startswith(claims.SUP) for c in v.values())  # a clear effect: all found


def test_false_positive_rate_under_no_effect():
    """Every method equal, nothing scales: 'supported' in at most 5% of draws, every claim
    (200 draws here; `python -m scalex.power` runs 500+ and prints the power too)."""
    rates = power.rates(truth(0.0), 3, 200, seed=5)
    assert all(r <= 0.05 for r in rates.values()), rates


def test_compute_mismatch_is_not_a_baseline():
    rows = seeded(truth(0.05), sd=0.01)
    for r in rows:
        if r["method"] == "joint":
            r["tokens"] *= 2
    v = verdicts(rows)["c"]  # joint is clearly worse, but not at equal compute: no win over it
    assert v["verdict"] == claims.NOTRUN and "joint (not compute-matched: 200% of the tokens)" in v["sentence"]


def test_row_helper_marks_results_and_settings():
    r = row("joint", 100, 1, {"test.zh": 2.0}, lrl_epochs=8, tokens=5)
    assert table.settings_of(r)["lrl_epochs"] == 8 and "tokens" not in table.settings_of(r)
    assert r["tokens"] == 5
