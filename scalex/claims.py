"""
The paper's claims, each a pure function of report rows -> {claim, numbers, verdict}, and the
statistics they rest on: the seed spread of a row, and a scaling-law fit per method,
L(D) = E + A * D^-alpha of low-resource bits-per-byte against high-resource tokens, with a
bootstrap interval for alpha. report.py groups runs into rows and prints what these return.

A verdict is never written by hand: supported / not supported / inconclusive within seed
noise / not run. A difference smaller than the measured seed spread is inconclusive, not a
win; with one seed there is no measured spread.
"""
import warnings

# --- thresholds and settings (the report's "Definitions" section prints these) ------------
# alpha <= 0.02 over a 12x sweep moves D^-alpha by under 5% of A: indistinguishable from flat.
ALPHA_MIN = 0.02
ALPHA_MAX = 5.0         # bound for the fit; a larger alpha is a step, not a power law
# chrF (0-100) below which a "translation" is mostly wrong words: such a baseline cannot show
# whether translation stops scaling (the dictionary translator measured 2.5, a real MT system 40+).
CHRF_MIN = 20.0
BOOTSTRAP = 500         # bootstrap resamples per fit (a 95% percentile interval; ~2 s per fit on a CPU)
RNG_SEED = 0            # fixed: the same runs give a byte-identical report

# Rows of these experiments change one factor on purpose; the main curves leave them out.
ABLATIONS = ("ablate-lr", "ablate-tokens", "multilingual")

SUP, NOT, NOISE, NOTRUN = "supported", "not supported", "inconclusive within seed noise", "not run"
ONE = "inconclusive (1 seed: spread not measured)"
UNTESTABLE = "not testable with this translator"

TRANSFORM = ("translate", "codeswitch")
MIX = ("mix", "joint")   # the joint baseline: called joint at the quickstart, mix in the experiments
KNOWLEDGE = MIX + ("scalex", "seq_hrl_lrl", "seq_lrl_hrl", "mix_scalex_schedule", "fixed_mix",
                   "prop10", "prop25", "prop50")
# --- statistics -----------------------------------------------------------------------------
def spread(rows, lang):
    """The measured seed spread of a comparison: the largest seed std among the rows compared
    (seed noise is a property of the setup, so a row with one seed borrows it). None when no
    row has two seeds."""
    stds = [r["bpb"][lang][1] for r in rows if lang in r["bpb"] and r["bpb"][lang][1] is not None]
    return max(stds) if stds else None


def bpb(row, lang=None):
    return row["bpb"][lang or row["lrl"]][0]


def _law(x, E, A, alpha):
    return E + A * x ** (-alpha)


def fit_law(D, y, p0=None):
    """L(D) = E + A*D^-alpha by bounded least squares; D is scaled by its smallest value
    (alpha is unchanged, A stays near the loss scale so the fit is well conditioned). A >= 0:
    the law describes improvement; a curve that rises fits as flat and the observed numbers
    say it rose. None when scipy finds no fit."""
    import numpy as np
    from scipy.optimize import OptimizeWarning, curve_fit
    x, y = np.asarray(D, float) / min(D), np.asarray(y, float)
    p0 = p0 or [max(y.min() - 0.1 * (np.ptp(y) + 1e-3), 0.0), max(y[0] - y.min(), 1e-3), 0.5]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            p, _ = curve_fit(_law, x, y, p0=p0, bounds=([0, 0, 0], [np.inf, np.inf, ALPHA_MAX]), maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    return {"E": float(p[0]), "A": float(p[1]), "alpha": float(p[2]),
            "drop": float(_law(1.0, *p) - _law(max(D) / min(D), *p))}


_FITS = {}  # the claims and the tables fit the same curves: fit each once


def fit_scaling(points, n_boot=BOOTSTRAP):
    """points: [(HRL tokens, [bpb of each seed])]. Alpha's 95% interval by bootstrap: seeds
    resampled within each HRL size when any size has several; with one seed everywhere, the
    residuals are resampled when there are more sizes than parameters; else no interval."""
    points = sorted((d, tuple(v)) for d, v in points)
    key = (tuple(points), n_boot)
    if key not in _FITS:
        _FITS[key] = _fit_scaling(points, n_boot)
    return dict(_FITS[key])


def _fit_scaling(points, n_boot):
    import numpy as np
    if len(points) < 3:
        return {"status": "not fitted (needs 3 sizes)"}
    D = [d for d, _ in points]
    means = [sum(v) / len(v) for _, v in points]
    fit = fit_law(D, means)
    if fit is None:
        return {"status": "fit failed"}
    rng, alphas, p0 = np.random.default_rng(RNG_SEED), [], [fit["E"], max(fit["A"], 1e-6), max(fit["alpha"], 1e-3)]
    if any(len(v) > 1 for _, v in points):
        how = "seeds resampled within each size"
        for _ in range(n_boot):
            f = fit_law(D, [float(np.mean(rng.choice(v, len(v)))) for _, v in points], p0)
            if f:
                alphas.append(f["alpha"])
    elif len(points) > 3:
        how = "residuals resampled (1 seed per size)"
        base = [_law(d / min(D), fit["E"], fit["A"], fit["alpha"]) for d in D]
        res = np.asarray(means) - np.asarray(base)
        for _ in range(n_boot):
            f = fit_law(D, list(np.asarray(base) + rng.choice(res, len(res))), p0)
            if f:
                alphas.append(f["alpha"])
    else:
        how = "no interval (1 seed at only 3 sizes)"
    ci = (float(np.percentile(alphas, 2.5)), float(np.percentile(alphas, 97.5))) if len(alphas) >= 10 else None
    return dict(fit, status="fitted", ci=ci, how=how, sizes=len(points))


def scales(fit, s):
    """The brief's "scales": alpha's whole 95% interval above ALPHA_MIN, and the fitted drop
    over the swept range larger than the seed spread (a tiny A makes alpha meaningless)."""
    return bool(fit.get("ci") and fit["ci"][0] > ALPHA_MIN and s is not None and fit["drop"] > s)


def _fmt_fit(f):
    if f.get("status") != "fitted":
        return f.get("status", "")
    ci = f"[{f['ci'][0]:.3f}, {f['ci'][1]:.3f}]" if f["ci"] else "n/a"
    return f"alpha {f['alpha']:.3f} {ci}"


# --- picking rows for the claims ------------------------------------------------------------
def points(c, lang):
    """A curve's rows as fit input: (HRL tokens, each seed's bpb)."""
    return [(r["hrl_budget"], [x["val_bpb"][lang] for x in r["runs"]]) for r in c]


def curve(rows, methods):
    """One row per HRL size for a method (the row with most seeds), outside the ablations."""
    best = {}
    for r in rows:
        if r["method"] in methods and r["experiment"] not in ABLATIONS and len(r["lrls"]) == 1 and r["lrl"] in r["bpb"]:
            k = r["hrl_budget"]
            if k not in best or r["seeds"] > best[k]["seeds"]:
                best[k] = r
    return [best[k] for k in sorted(best)]


def partner(rows, row, methods, **match):
    """The row of another method at the same point (HRL and LRL budget), preferring the same
    experiment, then the same tokenizer, then more seeds."""
    cands = [r for r in rows if r["method"] in methods and r["hrl_budget"] == row["hrl_budget"] and r["lrls"] == row["lrls"]
             and r["lrl_budget"] == row["lrl_budget"] and r is not row and r["lrl"] in r["bpb"] and all(r[k] == v for k, v in match.items())]
    cands.sort(key=lambda r: (r["experiment"] != row["experiment"], r["tok_sha"] != row["tok_sha"], -r["seeds"], r["experiment"]))
    return cands[0] if cands else None


def fmt_tokens(n):
    return f"{n / 1e6:.4g}M" if n >= 1e6 else f"{n / 1e3:.4g}k" if n >= 1e4 else f"{n:,}"


def fmt_spread(s):
    return "n/a" if s is None else f"{s:.4f}"


def compare(better_if_lower, other, s):
    """+1: the first is lower (better) by more than the spread; -1: worse; 0: inside it."""
    d = other - better_if_lower
    return None if s is None else (1 if d > s else -1 if d < -s else 0)


def combine(per):
    """One verdict from several (per method, per size): the common one, else each listed."""
    if not per:
        return NOTRUN
    vals = list(per.values())
    return vals[0] if len(set(vals)) == 1 else "; ".join(f"{k}: {v}" for k, v in per.items())


def _transform_quality(row):
    qs = [q for _, q in sorted(row["transform"].items())]
    chrfs = [q["chrf"] for q in qs if q.get("chrf") is not None]
    return (", ".join(sorted({str(q.get("backend")) for q in qs})) or "not recorded"), (min(chrfs) if chrfs else None)


# --- the claims: each a pure function of the rows -> {claim, numbers, verdict} -------------
def claim_transform(rows, n_boot=BOOTSTRAP):
    """(a) translation / code-switching stop scaling: their gain between the two largest HRL
    sizes is inside the seed spread while a knowledge-transfer method's gain there is not, or
    their fit does not scale while a knowledge-transfer method's fit does."""
    per, nums, chrf_of = {}, [], {}
    kt_curves = [c for c in (curve(rows, (k,)) for k in KNOWLEDGE) if len(c) >= 3]
    kt_fit = [c[0]["method"] for c in kt_curves if scales(fit_scaling(points(c, c[0]["lrl"]), n_boot), spread(c, c[0]["lrl"]))]
    for m in TRANSFORM:  # translate first: code-switching uses its lexicon, so it may borrow its chrF
        c = curve(rows, (m,))
        if not c:
            continue
        lang = c[0]["lrl"]
        backend, chrf = _transform_quality(c[-1])
        chrf = chrf_of.setdefault(backend, chrf) if chrf is not None else chrf_of.get(backend)
        fit = fit_scaling(points(c, lang), n_boot)
        nums.append(f"{m}: translator {backend}, chrF {'not recorded' if chrf is None else f'{chrf:.1f}'}; {_fmt_fit(fit)}")
        if chrf is None or chrf < CHRF_MIN:
            per[m] = UNTESTABLE
            continue
        if len(c) < 2:
            per[m] = "not run (needs 2 HRL sizes)"
            continue
        a, b = c[-2], c[-1]
        kts = [(k, partner(rows, a, (k,)), partner(rows, b, (k,))) for k in KNOWLEDGE]
        kts = [(k, x, y) for k, x, y in kts if x and y and x["experiment"] not in ABLATIONS and y["experiment"] not in ABLATIONS]
        s = spread([a, b] + [r for _, x, y in kts for r in (x, y)], lang)
        nums[-1] += f"; gain {fmt_tokens(a['hrl_budget'])}->{fmt_tokens(b['hrl_budget'])} {bpb(a) - bpb(b):+.4f}"
        nums += [f"{k} gain there {bpb(x) - bpb(y):+.4f}" for k, x, y in kts]
        nums.append(f"spread {fmt_spread(s)}; knowledge transfer that scales by its fit: {', '.join(kt_fit) or 'none'}")
        if s is None:
            per[m] = ONE
        elif compare(bpb(b), bpb(a), s) == 1:
            per[m] = NOT  # it keeps improving beyond the noise at the largest sizes
        elif any(compare(bpb(y), bpb(x), s) == 1 for _, x, y in kts) or (kt_fit and not scales(fit, spread(c, lang))):
            per[m] = SUP
        else:
            per[m] = NOISE
    return {"claim": "(a) data transformation (translate, codeswitch) does not keep scaling",
            "numbers": "; ".join(nums) or "needs translate or codeswitch runs", "verdict": combine(per)}


def claim_knowledge(rows, n_boot=BOOTSTRAP):
    """(b) knowledge transfer scales: alpha clearly > 0 for each method swept over HRL sizes."""
    per, nums = {}, []
    for m in KNOWLEDGE:
        c = curve(rows, (m,))
        if len(c) == 1:
            nums.append(f"{m}: one HRL size, not swept")
        if len(c) < 2:
            continue
        lang = c[0]["lrl"]
        s = spread(c, lang)
        fit = fit_scaling(points(c, lang), n_boot)
        nums.append(f"{m}: {_fmt_fit(fit)}" + (f", fitted drop {fit['drop']:.4f}" if fit.get("status") == "fitted" else "")
                    + f", spread {fmt_spread(s)}")
        if fit.get("status") != "fitted":
            per[m] = f"inconclusive: {fit['status']}"
        elif s is None:
            per[m] = ONE
        elif scales(fit, s):
            per[m] = SUP
        elif compare(bpb(c[0]), bpb(c[-1]), s) == 1 or (fit["ci"] and fit["ci"][1] < ALPHA_MIN):
            per[m] = NOT  # worse with more HRL beyond the noise, or alpha tightly near zero
        else:
            per[m] = NOISE
    return {"claim": "(b) knowledge transfer (mix, order, proportion, scalex) scales with HRL data",
            "numbers": "; ".join(nums) or "no knowledge-transfer method swept over 2+ HRL sizes", "verdict": combine(per)}


def _matched(b, r):
    """Steps of a baseline vs ScaleX: plans round each stage to whole steps, so a step or so
    apart is shown; more than 1% apart, the comparison is not compute-matched."""
    if b["steps"] == r["steps"] or None in (b["steps"], r["steps"]):
        return ""
    return f" [steps {b['steps']} vs {r['steps']}" + (": not compute-matched]" if abs(b["steps"] - r["steps"]) > 0.01 * r["steps"] else "]")


def claim_scalex(rows, n_boot=BOOTSTRAP):
    """(c) ScaleX beats mix and the compute-matched LRL-only run at every HRL size, by a margin
    (vs mix) that grows from the smallest to the largest size by more than the spread."""
    sx = curve(rows, ("scalex",))
    pts = [(r, partner(rows, r, MIX), partner(rows, r, ("lrl_only",))) for r in sx]
    pts = [(r, m, l) for r, m, l in pts if m or l]
    if not pts:
        return {"claim": "(c) ScaleX beats mix and compute-matched LRL-only, margin grows with HRL size",
                "numbers": "needs scalex and mix or lrl_only at the same HRL size", "verdict": NOTRUN}
    lang = pts[0][0]["lrl"]
    s = spread([x for p in pts for x in p if x], lang)
    # the margin that must grow: against mix where every size has it, else against lrl_only
    base = 1 if all(m for _, m, _ in pts) else 2 if all(l for _, _, l in pts) else None
    nums, signs, margins = [], [], []
    for p in pts:
        r, m, l = p
        parts = [f"{fmt_tokens(r['hrl_budget'])}: scalex {bpb(r):.4f}"]
        for name, b in (("mix", m), ("lrl_only", l)):
            if b:
                parts.append(f"{name} {bpb(b):.4f} (margin {bpb(b) - bpb(r):+.4f})"
                             + _matched(b, r))
                signs.append(compare(bpb(r), bpb(b), s))
        if base:
            margins.append(bpb(p[base]) - bpb(r))
        nums.append(" ".join(parts))
    if len(margins) > 1:
        nums.append(f"margin vs {('mix', 'lrl_only')[base - 1]} {margins[0]:+.4f} -> {margins[-1]:+.4f}")
    nums.append(f"spread {fmt_spread(s)}")
    if "not compute-matched" in " ".join(nums):
        v = "inconclusive: a baseline is not compute-matched"  # a gap in compute proves nothing
    elif s is None:
        v = ONE
    elif -1 in signs:
        v = NOT
    elif 0 in signs:
        v = NOISE
    elif len(margins) < 2:
        v = "inconclusive (wins at every size run; growth of the margin needs 2 sizes with one baseline)"
    else:
        g = compare(margins[0], margins[-1], s)  # +1 when the last margin exceeds the first by > s
        v = SUP if g == 1 else NOT if g == -1 else "inconclusive within seed noise (wins at every size; growth of the margin not resolved)"
    return {"claim": "(c) ScaleX beats mix and compute-matched LRL-only, margin grows with HRL size",
            "numbers": "; ".join(nums), "verdict": v}


def _pairs_verdict(pairs, lang_of, name_of, directed):
    """Per pair (a, b): directed -> a better than b beyond spread = supported, worse = not;
    undirected -> any difference beyond spread = supported. Inside it: inconclusive."""
    per, nums = {}, []
    for a, b in pairs:
        lang = lang_of(a)
        s = spread([a, b], lang)
        c = compare(bpb(a, lang), bpb(b, lang), s)
        nums.append(f"{name_of(a, b)}: {bpb(a, lang):.4f} vs {bpb(b, lang):.4f} (spread {fmt_spread(s)})")
        if c is None:
            per[name_of(a, b)] = ONE
        elif c == 0:
            per[name_of(a, b)] = NOISE
        else:
            per[name_of(a, b)] = SUP if (c == 1 or not directed) else NOT
    return per, nums


def claim_schedule(rows, n_boot=BOOTSTRAP):
    """(d) the LR schedule matters: ScaleX vs its cosine-rewarmed and WSD variants, and mix
    under ScaleX's schedule vs mix. Any difference beyond the spread = it matters."""
    pairs = [(partner(rows, r, ("scalex",)), r) for r in rows if r["method"] in ("scalex_cosine", "scalex_wsd")]
    pairs += [(r, partner(rows, r, MIX)) for r in rows if r["method"] == "mix_scalex_schedule"]
    pairs = [(a, b) for a, b in pairs if a and b]
    per, nums = _pairs_verdict(pairs, lambda a: a["lrl"], lambda a, b: f"{a['method']} vs {b['method']} at {fmt_tokens(a['hrl_budget'])}", False)
    v = NOTRUN if not per else SUP if SUP in per.values() else ONE if ONE in per.values() else NOISE
    return {"claim": "(d) the LR schedule matters (constant stage 1 vs cosine vs WSD; mix under ScaleX's schedule)",
            "numbers": "; ".join(nums) or "needs ablate-lr or mix_scalex_schedule runs", "verdict": v}


def claim_tokens(rows, n_boot=BOOTSTRAP):
    """(e) shared tokens matter: the joint tokenizer beats the disjoint one beyond the spread."""
    pairs = [(partner(rows, r, (r["method"],), tok_variant="joint"), r) for r in rows
             if r["tok_variant"] == "disjoint" and r["method"] in ("scalex",) + MIX]
    pairs = [(a, b) for a, b in pairs if a]
    per, nums = _pairs_verdict(pairs, lambda a: a["lrl"], lambda a, b: f"{a['method']} joint vs disjoint at {fmt_tokens(a['hrl_budget'])}", True)
    return {"claim": "(e) tokens shared across languages matter (joint vs disjoint tokenizer)",
            "numbers": "; ".join(nums) or "needs ablate-tokens runs", "verdict": combine(per)}


def claim_multilingual(rows, n_boot=BOOTSTRAP):
    """(f) ScaleX beats mix on every LRL when there are two LRLs."""
    pairs = [(r, partner(rows, r, MIX)) for r in rows if r["method"] == "scalex" and len(r["lrls"]) > 1]
    pairs = [(a, b, l) for a, b in pairs if b for l in a["lrls"] if l in a["bpb"] and l in b["bpb"]]
    per, nums = {}, []
    for a, b, l in pairs:
        p, n = _pairs_verdict([(a, b)], lambda _: l, lambda a, b: f"{l} at {fmt_tokens(a['hrl_budget'])}", True)
        per.update(p)
        nums += [f"scalex vs mix on {x}" for x in n]
    return {"claim": "(f) ScaleX generalises to three languages (beats mix on each LRL)",
            "numbers": "; ".join(nums) or "needs multilingual runs", "verdict": combine(per)}


CLAIMS = (claim_transform, claim_knowledge, claim_scalex, claim_schedule, claim_tokens, claim_multilingual)
