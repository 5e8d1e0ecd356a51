"""
The report: every finished run below a folder, grouped into experiment points, one Markdown
table and plot per experiment, a scaling-law fit per method, and the paper's claims, each with
a verdict computed from the numbers.

    python eval.py report runs/mini          ROOT/report.md, ROOT/report.png, ROOT/report-<experiment>.png
    python eval.py plot runs/mini/scalex/scalex-en2000000-s1        RUN/plot.png (loss and LR curves)

Every number is bits per UTF-8 byte (bpb) on held-out text, not loss per token: bpb does not
depend on the tokenizer, so runs with a joint and a disjoint vocabulary compare directly.
Noise is measured, not assumed: a row's spread is the std of its seeds, and a difference
smaller than the spread of the rows it compares is "inconclusive", never a win.
"""
import hashlib
import json
import math
import os
import warnings

from configurator import ConfigError, atomic_write, read_json

# --- thresholds and settings (the report's "Definitions" section prints these) ------------
# alpha <= 0.02 over a 12x sweep moves D^-alpha by under 5% of A: indistinguishable from flat.
ALPHA_MIN = 0.02
ALPHA_MAX = 5.0         # bound for the fit; a larger alpha is a step, not a power law
# chrF (0-100) below which a "translation" is mostly wrong words: such a baseline cannot show
# whether translation stops scaling (the dictionary translator measured 2.5, a real MT system 40+).
CHRF_MIN = 20.0
BOOTSTRAP = 500         # bootstrap resamples per fit (a 95% percentile interval; ~2 s per fit on a CPU)
RNG_SEED = 0            # fixed: the same runs give a byte-identical report

SUP, NOT, NOISE, NOTRUN = "supported", "not supported", "inconclusive within seed noise", "not run"
ONE = "inconclusive (1 seed: spread not measured)"
UNTESTABLE = "not testable with this translator"

TRANSFORM = ("translate", "codeswitch")
MIX = ("mix", "joint")   # the joint baseline: called joint at the quickstart, mix in the experiments
KNOWLEDGE = MIX + ("scalex", "seq_hrl_lrl", "seq_lrl_hrl", "mix_scalex_schedule", "fixed_mix",
                   "prop10", "prop25", "prop50")
# Rows of these experiments change one factor on purpose; the main curves leave them out.
ABLATIONS = ("ablate-lr", "ablate-tokens", "multilingual")

# A method keeps its colour in every report (tab10/tab20 colours); an unknown name gets one by
# a stable hash of the name, so it too is the same everywhere.
PALETTE = {"lrl_only": "#000000", "lrl_only_epochs": "#7f7f7f", "mix": "#1f77b4", "joint": "#1f77b4",
           "scalex": "#d62728", "scalex_cosine": "#ff9896", "scalex_wsd": "#8c564b", "translate": "#2ca02c",
           "codeswitch": "#98df8a", "seq_hrl_lrl": "#ff7f0e", "seq_lrl_hrl": "#ffbb78",
           "mix_scalex_schedule": "#9467bd", "fixed_mix": "#17becf", "prop10": "#aec7e8",
           "prop25": "#c5b0d5", "prop50": "#e377c2"}
_FALLBACK = ["#bcbd22", "#dbdb8d", "#9edae5", "#c49c94", "#f7b6d2", "#c7c7c7", "#393b79", "#637939"]


def color(method):
    return PALETTE.get(method) or _FALLBACK[int(hashlib.sha256(method.encode()).hexdigest(), 16) % len(_FALLBACK)]


# --- loading -------------------------------------------------------------------------------
# A damaged run file is one line naming it (configurator.read_json) and this fix.
_FIX = "the run is damaged: train it again or move its folder out of the report's root"


def plan_sha256(plan):
    """The contract's plan hash (CONTRACT.md), for runs whose summary predates plan_sha256."""
    stages = [{k: st.get(k) for k in ("name", "lr", "steps", "seqs", "lr_from", "lr_to")} for st in plan["stages"]]
    canon = {"stages": stages, "block_size": plan.get("block_size"), "seqs_per_step": plan.get("seqs_per_step")}
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def load_run(dirpath, root):
    """One finished run as a flat record. Fields a summary lacks (older runs) come from the
    run's config.json, else a default; the experiment is the folder below root."""
    spath = os.path.join(dirpath, "summary.json")
    s = read_json(spath, _FIX)
    for field, kind in (("method", str), ("hrl", str), ("budget", dict), ("val_bpb", dict)):
        if not isinstance(s.get(field), kind):
            raise ConfigError(f"{spath}: no valid field '{field}'; the run is not a finished training run: train it again")
    if s["hrl"] not in s["budget"]:
        raise ConfigError(f"{spath}: budget has no entry for the hrl '{s['hrl']}'; the summary is damaged: train the run again")
    c = read_json(os.path.join(dirpath, "config.json"), _FIX) if os.path.isfile(os.path.join(dirpath, "config.json")) else {}
    cfg, plan = c.get("config", {}), c.get("plan")
    listed = s.get("lrls") or s.get("lrl") or cfg.get("lrl") or []
    listed = [listed] if isinstance(listed, str) else list(listed)
    lrls = listed + [l for l in s["budget"] if l != s["hrl"] and l not in listed]
    rel = os.path.relpath(dirpath, root).split(os.sep)
    tok = s.get("tokenizer") or c.get("tokenizer") or {}
    read = lambda name: read_json(os.path.join(dirpath, name), _FIX) if os.path.isfile(os.path.join(dirpath, name)) else {}
    return {"dir": dirpath, "method": s["method"], "hrl": s["hrl"], "lrls": lrls, "budget": s["budget"],
            "experiment": s.get("experiment") or cfg.get("experiment") or (rel[0] if len(rel) > 1 else os.path.basename(os.path.abspath(root))),
            "seed": s.get("seed", cfg.get("seed")), "data_dir": s.get("data_dir") or cfg.get("data_dir"),
            "tok_variant": tok.get("variant"), "tok_sha": tok.get("sha256"),
            "plan_sha": s.get("plan_sha256") or (plan_sha256(plan) if plan else None),
            "world_size": s.get("world_size") or (plan or {}).get("world_size", 1),
            "model": s.get("model") or cfg.get("model"), "params": s.get("params"),
            "val_bpb": s["val_bpb"], "val_bpb_se": s.get("val_bpb_se") or {}, "steps": s.get("steps"),
            "tokens_seen": s.get("tokens_seen") or {}, "val_tokens": s.get("val_tokens"), "derived": s.get("derived") or {},
            "transform": s.get("transform_quality") or {}, "downstream": read("downstream.json").get("tasks", {}),
            "bpb_extra": read("bpb_extra.json")}


def load_runs(root):
    if not os.path.isdir(root):
        raise ConfigError(f"report: no folder {root}; give the folder the runs were written to (e.g. runs/quickstart)")
    out = []
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        if "summary.json" in files:
            out.append(load_run(dirpath, root))
    return out


# --- grouping: one row per experiment point -------------------------------------------------
# Everything that defines an experiment point; only the seed varies inside a row.
KEY = ("experiment", "method", "hrl", "lrls", "budget", "data_dir", "tok_sha", "plan_sha", "world_size", "model", "params")


def _mean_std(xs):
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else None)


def _agreed(runs, field, what, flags):
    """The members' common value of a field outside the key; a disagreement is flagged."""
    vals = [json.dumps(r[field], sort_keys=True) for r in runs]
    if len(set(vals)) > 1:
        flags.append(f"{what} differ between seeds")
        return None
    return runs[0][field]


def group_runs(runs):
    groups = {}
    for r in sorted(runs, key=lambda r: r["dir"]):
        groups.setdefault(tuple(json.dumps(r[k], sort_keys=True) for k in KEY), []).append(r)
    rows = []
    for key, members in sorted(groups.items()):
        flags, by_seed = [], {}
        for r in members:
            by_seed.setdefault(r["seed"], []).append(r)
        for seed, rs in sorted(by_seed.items(), key=lambda kv: str(kv[0])):
            if len(rs) > 1:  # e.g. a copied run folder: counting it twice would shrink the spread
                flags.append(f"seed {seed} found {len(rs)}x ({', '.join(os.path.basename(x['dir']) for x in rs)}): counted once")
        runs_ = [rs[0] for _, rs in sorted(by_seed.items(), key=lambda kv: str(kv[0]))]
        r0 = runs_[0]
        langs = [l for l in [r0["hrl"]] + r0["lrls"] if all(l in r["val_bpb"] for r in runs_)]
        row = {k: r0[k] for k in KEY}
        row.update({"lrl": r0["lrls"][0] if r0["lrls"] else None, "hrl_budget": r0["budget"][r0["hrl"]],
                    "tok_variant": r0["tok_variant"], "runs": runs_, "seeds": len(runs_), "flags": flags,
                    "bpb": {l: _mean_std([r["val_bpb"][l] for r in runs_]) for l in langs},
                    "se": {l: sum(r["val_bpb_se"][l] for r in runs_) / len(runs_) for l in langs
                           if all(l in r["val_bpb_se"] for r in runs_)},
                    "derived": r0["derived"], "transform": r0["transform"]})
        row["lrl_budget"] = r0["budget"].get(row["lrl"])
        row["steps"] = _agreed(runs_, "steps", "steps", flags)
        row["tokens"] = _agreed(runs_, "tokens_seen", "tokens trained", flags)
        _agreed(runs_, "val_tokens", "validation tokens", flags)
        rows.append(row)
    for r in rows:  # rows of one method and size in one experiment: name what tells them apart
        sib = [x for x in rows if (x["experiment"], x["method"], x["hrl_budget"]) == (r["experiment"], r["method"], r["hrl_budget"])]
        diff = [k for k in KEY if len({json.dumps(x[k], sort_keys=True) for x in sib}) > 1]
        diff = [k for k in diff if not (k == "data_dir" and "tok_sha" in diff)]  # a new tokenizer needs its own data dir
        r["tag"] = ", ".join(f"tokenizer {r['tok_variant']}" if k == "tok_sha" else f"{k} {str(r[k])[:16]}" for k in diff)
        r["label"] = r["method"] + (f" ({r['tag']})" if r["tag"] else "")
    return rows


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
def _points(c, lang):
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


def _tok(n):
    return f"{n / 1e6:.4g}M" if n >= 1e6 else f"{n / 1e3:.4g}k" if n >= 1e4 else f"{n:,}"


def _s(s):
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
    kt_fit = [c[0]["method"] for c in kt_curves if scales(fit_scaling(_points(c, c[0]["lrl"]), n_boot), spread(c, c[0]["lrl"]))]
    for m in TRANSFORM:  # translate first: code-switching uses its lexicon, so it may borrow its chrF
        c = curve(rows, (m,))
        if not c:
            continue
        lang = c[0]["lrl"]
        backend, chrf = _transform_quality(c[-1])
        chrf = chrf_of.setdefault(backend, chrf) if chrf is not None else chrf_of.get(backend)
        fit = fit_scaling(_points(c, lang), n_boot)
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
        nums[-1] += f"; gain {_tok(a['hrl_budget'])}->{_tok(b['hrl_budget'])} {bpb(a) - bpb(b):+.4f}"
        nums += [f"{k} gain there {bpb(x) - bpb(y):+.4f}" for k, x, y in kts]
        nums.append(f"spread {_s(s)}; knowledge transfer that scales by its fit: {', '.join(kt_fit) or 'none'}")
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
        fit = fit_scaling(_points(c, lang), n_boot)
        nums.append(f"{m}: {_fmt_fit(fit)}" + (f", fitted drop {fit['drop']:.4f}" if fit.get("status") == "fitted" else "")
                    + f", spread {_s(s)}")
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
        parts = [f"{_tok(r['hrl_budget'])}: scalex {bpb(r):.4f}"]
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
    nums.append(f"spread {_s(s)}")
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
        nums.append(f"{name_of(a, b)}: {bpb(a, lang):.4f} vs {bpb(b, lang):.4f} (spread {_s(s)})")
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
    per, nums = _pairs_verdict(pairs, lambda a: a["lrl"], lambda a, b: f"{a['method']} vs {b['method']} at {_tok(a['hrl_budget'])}", False)
    v = NOTRUN if not per else SUP if SUP in per.values() else ONE if ONE in per.values() else NOISE
    return {"claim": "(d) the LR schedule matters (constant stage 1 vs cosine vs WSD; mix under ScaleX's schedule)",
            "numbers": "; ".join(nums) or "needs ablate-lr or mix_scalex_schedule runs", "verdict": v}


def claim_tokens(rows, n_boot=BOOTSTRAP):
    """(e) shared tokens matter: the joint tokenizer beats the disjoint one beyond the spread."""
    pairs = [(partner(rows, r, (r["method"],), tok_variant="joint"), r) for r in rows
             if r["tok_variant"] == "disjoint" and r["method"] in ("scalex",) + MIX]
    pairs = [(a, b) for a, b in pairs if a]
    per, nums = _pairs_verdict(pairs, lambda a: a["lrl"], lambda a, b: f"{a['method']} joint vs disjoint at {_tok(a['hrl_budget'])}", True)
    return {"claim": "(e) tokens shared across languages matter (joint vs disjoint tokenizer)",
            "numbers": "; ".join(nums) or "needs ablate-tokens runs", "verdict": combine(per)}


def claim_multilingual(rows, n_boot=BOOTSTRAP):
    """(f) ScaleX beats mix on every LRL when there are two LRLs."""
    pairs = [(r, partner(rows, r, MIX)) for r in rows if r["method"] == "scalex" and len(r["lrls"]) > 1]
    pairs = [(a, b, l) for a, b in pairs if b for l in a["lrls"] if l in a["bpb"] and l in b["bpb"]]
    per, nums = {}, []
    for a, b, l in pairs:
        p, n = _pairs_verdict([(a, b)], lambda _: l, lambda a, b: f"{l} at {_tok(a['hrl_budget'])}", True)
        per.update(p)
        nums += [f"scalex vs mix on {x}" for x in n]
    return {"claim": "(f) ScaleX generalises to three languages (beats mix on each LRL)",
            "numbers": "; ".join(nums) or "needs multilingual runs", "verdict": combine(per)}


CLAIMS = (claim_transform, claim_knowledge, claim_scalex, claim_schedule, claim_tokens, claim_multilingual)


# --- the Markdown ---------------------------------------------------------------------------
def _table(head, body):
    cell = lambda x: str(x).replace("|", "\\|")  # a "|" inside a cell would end it
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(cell(c) for c in r) + " |" for r in body])


def _pm(ms):
    m, s = ms
    return f"{m:.4f}" + ("" if s is None else f" ± {s:.4f}")


def experiment_table(rows):
    r0, langs = rows[0], [rows[0]["hrl"]] + rows[0]["lrls"]
    extra = sorted({k for r in rows for x in r["runs"] for k in x["bpb_extra"]})
    head = (["method"] + [f"{l} budget" for l in langs] + ["tokens trained", "steps", "seeds"]
            + [f"**{l} val bpb**" for l in r0["lrls"]] + [f"{r0['lrl']} eval SE", f"{r0['hrl']} val bpb"]
            + [f"{k} bpb" for k in extra] + ["notes"])
    body = []
    for r in sorted(rows, key=lambda r: (r["method"], r["hrl_budget"], r["label"])):
        tokens = "varies" if r["tokens"] is None else " / ".join(f"{l} {_tok(n)}" for l, n in r["tokens"].items() if n)
        synth = [f"{k} is {v}" for k, v in r["derived"].items() if (r["tokens"] or {}).get(k)]
        ex = []
        for k in extra:
            got = [x["bpb_extra"][k] for x in r["runs"] if k in x["bpb_extra"]]
            se = f" (SE {got[0]['se']:.4f})" if len(got) == 1 and got[0].get("se") is not None else ""  # one seed: the set's own error
            ex.append(_pm(_mean_std([g["bpb"] for g in got])) + se if got and len(got) == r["seeds"] else "")
        body.append([r["label"]] + [f"{r['budget'].get(l, 0):,}" for l in langs]
                    + [tokens, "varies" if r["steps"] is None else f"{r['steps']:,}", r["seeds"]]
                    + [f"**{_pm(r['bpb'][l])}**" if l in r["bpb"] else "" for l in r0["lrls"]]
                    + [f"{r['se'][r['lrl']]:.4f}" if r["lrl"] in r["se"] else "", _pm(r["bpb"][r["hrl"]]) if r["hrl"] in r["bpb"] else ""]
                    + ex + ["; ".join(synth + r["flags"])])
    return _table(head, body)


def fits_table(rows, n_boot):
    body = []
    for m in sorted({r["label"] for r in rows}):
        c = sorted((r for r in rows if r["label"] == m), key=lambda r: r["hrl_budget"])
        if len({r["hrl_budget"] for r in c}) != len(c) or len(c) < 2:
            continue  # one size only, or points no key field tells apart: no single curve
        lang = c[0]["lrl"]
        f = fit_scaling(_points(c, lang), n_boot)
        s = spread(c, lang)
        if f["status"] != "fitted":
            body.append([m, len(c), f["status"], "", "", "", _s(s), ""])
            continue
        ci = f"[{f['ci'][0]:.3f}, {f['ci'][1]:.3f}] ({f['how']})" if f["ci"] else f["how"]
        body.append([m, len(c), f"{f['alpha']:.3f}", ci, f"{f['E']:.4f}", f"{f['drop']:.4f}", _s(s), "yes" if scales(f, s) else "no"])
    return _table(["method", "HRL sizes", "alpha", "alpha 95% CI", "E (bpb)", "fitted drop", "seed spread", "scales"], body) if body else ""


def accuracy_table(rows):
    tasks = sorted({t for r in rows for x in r["runs"] for t in x["downstream"]})
    if not tasks:
        return ""
    body = []
    for r in sorted(rows, key=lambda r: (r["experiment"], r["method"], r["hrl_budget"])):
        cells = []
        for t in tasks:
            accs = [x["downstream"][t] for x in r["runs"] if t in x["downstream"]]
            if len(accs) != r["seeds"]:
                cells.append("")
            elif len(accs) == 1:  # one seed: the task's own 95% interval is the only uncertainty
                ci = accs[0].get("acc_ci95")
                cells.append(f"{accs[0]['acc']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""))
            else:
                cells.append(_pm(_mean_std([a["acc"] for a in accs])).replace("±", "± (seeds)"))
        if any(cells):
            body.append([r["experiment"], r["method"], f"{r['hrl_budget']:,}", r["seeds"]] + cells)
    return _table(["experiment", "method", "HRL budget", "seeds"] + [f"{t} acc" for t in tasks], body)


def definitions(n_boot):
    return "\n".join([
        "- bpb: bits per UTF-8 byte on held-out text, lower is better; independent of the tokenizer.",
        "- A row is one experiment point: experiment, method, data dir and tokenizer, every language's budget, "
        "the plan (plan_sha256), world size and model. Only the seed varies inside it; ± is the std over distinct "
        "seeds; a seed found twice is counted once and flagged; eval SE is the evaluation's own standard error.",
        "- Spread of a comparison: the largest seed std among the rows compared. A difference inside it is "
        f"'{NOISE}'; with no row of two seeds it is '{ONE}'.",
        f"- Fit: L(D) = E + A·D^-alpha of the LRL bpb against HRL tokens D (scipy curve_fit, E, A >= 0, "
        f"0 <= alpha <= {ALPHA_MAX:g}), 3+ sizes; alpha's 95% interval by {n_boot} bootstrap resamples "
        f"(RNG seed {RNG_SEED}). Scales = interval above {ALPHA_MIN:g} and fitted drop over the range > spread.",
        f"- Claim (a) needs a translator of chrF >= {CHRF_MIN:g}; below it: '{UNTESTABLE}'.",
        "- Compute matching: lrl_only at an HRL budget trains as many tokens and steps as the bilingual runs there; "
        "a baseline more than 1% of steps from ScaleX's is not compute-matched and leaves claim (c) inconclusive.",
    ])


def report(root, out_md=None, n_boot=BOOTSTRAP):
    """Write ROOT/report.md and the plots; return (Markdown text, md path, png paths)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ConfigError(f"--bootstrap={n_boot!r}: must be a whole number of resamples >= 0 (default {BOOTSTRAP})")
    runs = load_runs(root)
    if not runs:
        raise ConfigError(f"report: no finished run (summary.json) below {root}")
    rows = group_runs(runs)
    out_md = out_md or os.path.join(root, "report.md")
    out_dir = os.path.dirname(out_md)
    parts, pngs = [f"# Report: {root}", ""], []
    cl = [f(rows, n_boot) for f in CLAIMS]
    parts += ["## Claims", "", _table(["claim", "numbers", "verdict"], [[c["claim"], c["numbers"], f"**{c['verdict']}**"] for c in cl]), ""]
    main = [r for m in sorted({r["method"] for r in rows}) for r in curve(rows, (m,))]
    if main:
        pngs.append(plot_rows(main, rows, os.path.join(out_dir, "report.png"), "main curves (ablations left out)"))
        parts += ["![main curves](report.png)", ""]
    for exp in sorted({r["experiment"] for r in rows}):
        er = [r for r in rows if r["experiment"] == exp]
        name = "report-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in exp) + ".png"
        pngs.append(plot_rows(er, rows, os.path.join(out_dir, name), exp))
        parts += [f"## Experiment: {exp}", "", experiment_table(er), ""]
        ft = fits_table(er, n_boot)
        parts += ([f"Fit of {er[0]['lrl']} bpb against {er[0]['hrl']} tokens, per method:", "", ft, ""] if ft else [])
        parts += [f"![{exp}]({name})", ""]
    acc = accuracy_table(rows)
    parts += (["## Downstream accuracy", "", acc, ""] if acc else [])
    parts += ["## Definitions", "", definitions(n_boot), ""]
    text = "\n".join(parts)
    atomic_write(out_md, lambda f: f.write(text), mode="w")
    return text, out_md, pngs


# --- plots ----------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    fig.savefig(path + ".tmp.png", metadata={"Software": None})
    _plt().close(fig)
    os.replace(path + ".tmp.png", path)
    return path


def plot_rows(rows, all_rows, path, title):
    """LRL bpb against HRL tokens (one panel per LRL), the HRL's bpb beside it; mean and seed
    std per method; the compute-matched lrl_only line drawn even when another experiment ran it."""
    plt = _plt()
    r0 = rows[0]
    langs = r0["lrls"] + [r0["hrl"]]
    lines = {}
    for r in rows:
        lines.setdefault((r["label"], r["method"]), []).append(r)
    if not any(r["method"] == "lrl_only" for r in rows):
        lo = [r for r in curve(all_rows, ("lrl_only",)) if r["lrl_budget"] == r0["lrl_budget"]]
        if lo:
            lines[("lrl_only (compute-matched)", "lrl_only")] = lo
    tags = sorted({label[len(method):] for label, method in lines})  # what tells a method's lines apart
    styles = {t: ["-", "--", ":", "-."][i % 4] for i, t in enumerate(tags)}
    fig, axes = plt.subplots(1, len(langs), figsize=(4.2 * len(langs) + 2, 3.8), dpi=110, layout="constrained", squeeze=False)
    for ax, lang in zip(axes[0], langs):
        for (label, method), rs in sorted(lines.items()):
            rs = sorted((r for r in rs if lang in r["bpb"]), key=lambda r: r["hrl_budget"])
            if not rs or (lang == r0["hrl"] and all(not (r["tokens"] or {}).get(lang) for r in rs)):
                continue  # a run that never trained the HRL has no HRL cost to show
            ax.errorbar([r["hrl_budget"] for r in rs], [r["bpb"][lang][0] for r in rs], yerr=[r["bpb"][lang][1] or 0 for r in rs],
                        marker="o", capsize=3, color=color(method), ls=styles[label[len(method):]], label=label)
        ax.set(xscale="log", xlabel=f"{r0['hrl']} (high-resource) tokens",
               ylabel=f"{lang} val bits/byte" + (" (what the HRL side pays)" if lang == r0["hrl"] else ""))
        ax.grid(alpha=0.3)
    handles = {l: h for ax in axes[0] for h, l in zip(*ax.get_legend_handles_labels())}
    fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=8)  # outside: never covers data
    fig.suptitle(f"{title}: mean ± seed std")
    return _save(fig, path)


def _read_metrics(path):
    """The log records, checked: a cut-off or foreign line is one clear error, not a traceback."""
    out = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            try:
                r = json.loads(line)
                ok = isinstance(r.get("step"), int) and all(isinstance(r.get(k, {}), dict) for k in ("train_loss", "val_loss"))
                ok = ok and ("train_loss" not in r or isinstance(r.get("lr"), (int, float)))
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                raise ConfigError(f"{path}: line {i} is not a metrics record (a write cut off?); delete that line "
                                  f"and plot again (the checkpoint and summary are not affected)")
            out.append(r)
    return out


def plot_run(rd):
    """RUN/plot.png: per-language train and val loss, and the LR, against tokens seen; stage
    boundaries marked (from the plan in config.json)."""
    for name in ("config.json", "metrics.jsonl"):
        if not os.path.isfile(os.path.join(rd, name)):
            raise ConfigError(f"plot: no {os.path.join(rd, name)}; give a run folder train.py wrote (e.g. runs/quickstart/scalex-en800000-s1337)")
    plan = read_json(os.path.join(rd, "config.json"), _FIX).get("plan")
    if not plan or "tokens_per_step" not in plan:
        raise ConfigError(f"plot: {os.path.join(rd, 'config.json')} has no plan; the run predates plans: train it again")
    recs = _read_metrics(os.path.join(rd, "metrics.jsonl"))
    train = [r for r in recs if "train_loss" in r]
    evals = [r for r in recs if "val_loss" in r]
    if not train:
        raise ConfigError(f"plot: {os.path.join(rd, 'metrics.jsonl')} has no training record yet; plot after the first log_interval")
    tps = plan["tokens_per_step"]
    plt = _plt()
    fig, (ax, axl) = plt.subplots(2, 1, figsize=(8, 6), dpi=110, sharex=True, layout="constrained", height_ratios=[3, 1])
    for lang in sorted({l for r in train for l in r["train_loss"]} | {l for r in evals for l in r["val_loss"]}):
        pts = [(r["step"] * tps, r["train_loss"][lang]) for r in train if lang in r["train_loss"]]
        line = ax.plot(*zip(*pts), lw=1, label=f"{lang} train")[0] if pts else None
        ev = [(r["step"] * tps, r["val_loss"][lang]) for r in evals if lang in r["val_loss"]]
        if ev:
            ax.plot(*zip(*ev), "o--", ms=4, label=f"{lang} val", **({"color": line.get_color()} if line else {}))
    axl.plot([r["step"] * tps for r in train], [r["lr"] for r in train], color="k", lw=1)
    for a in (ax, axl):
        a.grid(alpha=0.3)
        for st in plan["stages"][1:]:
            a.axvline(st["start_step"] * tps, color="grey", ls=":", lw=1)
    for st in plan["stages"]:
        ax.annotate(st["name"], (st["start_step"] * tps, 1), xycoords=("data", "axes fraction"), va="top", fontsize=8)
    ax.set(ylabel="loss (nats/token)")
    axl.set(ylabel="learning rate", xlabel="tokens seen (all languages)")
    fig.legend(loc="outside right upper", fontsize=8)
    fig.suptitle(os.path.basename(os.path.normpath(rd)))
    return _save(fig, os.path.join(rd, "plot.png"))
