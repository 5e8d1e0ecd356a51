"""claims.py: the scaling-law fit recovers a known exponent, and every claim's verdict on
synthetic rows whose answers are known (a method that scales, one that plateaus, one inside
the noise, a translator too weak to test, experiments not run)."""
import pytest

from scalex import claims
from scalex import report
from rows import NB, SIZES, curve_runs, law, plateau, rec


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
