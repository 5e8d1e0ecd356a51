"""The measurement protocol on synthetic run tables whose truth is known: choices read val only,
the tuned view compares picks, and the effective-data multiplier recovers a known multiplier."""
import math
import random

import pytest

from scalex import claims, multiplier, table, tuning
from scalex.power import row

SIZES = [50_000, 100_000, 200_000, 400_000]


def _rows(means, seeds=5, sd=0.002, rng=None):
    """means {(method, size, settings tuple): {"val": v, "test": t, "ood": o}} -> rows."""
    rng = rng or random.Random(0)
    out = []
    for (m, s, extra), v in means.items():
        x = dict(extra)
        for seed in range(1, seeds + 1):
            bpb = {f"{k}.zh": y + rng.gauss(0, sd) for k, y in v.items()}
            out.append(row(m, s, seed, bpb, **x))
    return out


def _grid_table():
    """joint and lrl_only_epochs grids where val and test rank the epochs the opposite way."""
    means = {}
    for s in SIZES:
        for m in ("joint", "scalex", "lrl_only"):
            means[(m, s, ())] = {"val": 3.0, "test": 3.0, "ood": 4.0}
    for e, val, test in [(2, 2.9, 3.2), (8, 3.1, 2.5)]:
        means[("joint", 100_000, (("lrl_epochs", e),))] = {"val": val, "test": test, "ood": 4.0}
        means[("lrl_only_epochs", 50_000, (("lrl_epochs", e),))] = {"val": val, "test": test, "ood": 4.0}
    for s in SIZES:  # the tuned runs at the pick's setting (what the sweep trains)
        if s != 100_000:
            means[("joint", s, (("lrl_epochs", 2),))] = {"val": 2.95, "test": 2.95, "ood": 4.0}
    return _rows(means)


def test_every_choice_reads_val_and_only_val():
    pts = table.points(_grid_table())
    dev = claims.deviations(pts)
    new, choices = tuning.tuned_view(pts, dev)
    assert choices and all(c["column"] == "val.zh" for c in choices)
    picks = {c["what"].split(" ")[0]: c["picked"]["lrl_epochs"] for c in choices}
    assert picks == {"joint": 2, "best": 2}  # val's best, though test ranks 8 first
    for p in pts:  # test values that would flip the pick change nothing
        for r in p["runs"].values():
            r["test.zh"] = -r["test.zh"]
    _, again = tuning.tuned_view(pts, claims.deviations(pts))
    assert [c["picked"] for c in again] == [c["picked"] for c in choices]


def test_the_tuned_view_puts_the_pick_on_the_curve_at_every_size():
    pts = table.points(_grid_table())
    dev = claims.deviations(pts)
    new, _ = tuning.tuned_view(pts, dev)
    curve = claims.curve(pts, new, "joint")
    assert [claims.hrl_size(p) for p in curve] == SIZES
    assert all(p["lrl_epochs"] == 2 and p["picked"] for p in curve)
    assert not claims.curve(pts, new, "lrl_only")  # the untuned recipes' compute-matched runs leave
    assert [claims.hrl_size(p) for p in claims.curve(pts, dev, "joint")] == SIZES  # untuned: E=4


def _reference_table(method_bpb):
    """LRL-only at 20k-160k unique tokens on the line bpb = 3 - 0.2 log2(U / 20k) (best epochs 4;
    other epochs worse on val), and joint at 400k at method_bpb."""
    means = {}
    for u in (20_000, 40_000, 80_000, 160_000):
        y = 3.0 - 0.2 * math.log2(u / 20_000)
        for e, worse in ((2, 0.3), (4, 0.0)):
            extra = (("budget.zh", u), ("lrl_epochs", e)) if u != 20_000 else (("lrl_epochs", e),)
            means[("lrl_only_epochs", 50_000, extra)] = {"val": y + worse, "test": y + worse, "ood": y + worse}
    means[("joint", 400_000, ())] = {"val": method_bpb, "test": method_bpb, "ood": method_bpb}
    means[("scalex", 400_000, ())] = {"val": 3.0, "test": 3.0, "ood": 3.0}
    return _rows(means, sd=0.005)


def test_the_multiplier_recovers_a_known_one():
    pts = table.points(_reference_table(2.6))  # 2.6 is what 80k unique tokens give: 4x the 20k
    dev = claims.deviations(pts)
    curve, recs = multiplier.reference(pts, dev, "zh")
    assert [u for u, _ in curve] == [20_000, 40_000, 80_000, 160_000]
    assert all(p["lrl_epochs"] == 4 for _, p in curve) and all(r["column"] == "val.zh" for r in recs)
    joint = next(p for p in pts if p["method"] == "joint")
    r = multiplier.multiplier(curve, joint, "test")
    assert r["m"] == pytest.approx(4.0, rel=0.05) and r["lo"] < 4.0 < r["hi"] and not r["extrapolated"]
    assert multiplier.fmt(r).startswith("4")


def test_a_multiplier_beyond_the_reference_is_marked():
    pts = table.points(_reference_table(2.2))  # 2.2 would need 320k unique tokens: past 160k
    dev = claims.deviations(pts)
    curve, _ = multiplier.reference(pts, dev, "zh")
    r = multiplier.multiplier(curve, next(p for p in pts if p["method"] == "joint"), "ood")
    assert r["extrapolated"] and r["m"] == pytest.approx(16.0, rel=0.1) and multiplier.fmt(r).endswith("*")
