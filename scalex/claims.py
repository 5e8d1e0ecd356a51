"""
The paper's claims, each a function of the run table's points (table.py) and one evaluation
set -> its primary comparison and its secondary ones. `verdicts` runs them on every set the
verdicts read, corrects the primaries across claims, and says what each claim's numbers say.

Every comparison is paired by seed (the same seeds train every method): per common seed,
delta = bpb(A) - bpb(B), so a NEGATIVE delta means A is better; each claim orders A and B so
that a negative delta is what the claim predicts. A claim is "supported" when its primary
comparison has SEEDS_MIN+ seeds, a Holm-corrected p below ALPHA (Holm over the claims'
primaries on that set) and |delta| >= MIN_EFFECT; "not supported" is the same the other way.
A primary made of several comparisons ("beats every baseline") needs each of them: its p is
the largest (an intersection-union test). Secondary comparisons show raw p only.
"""
import math

from scalex import table, tuning

ALPHA = 0.05        # family-wise error over the claims' primary comparisons, per evaluation set
SEEDS_MIN = 3       # a t-test on 2 seeds has 1 degree of freedom: its p-values are unusable
MIN_EFFECT = 0.01   # bpb: a smaller difference is no effect worth a verdict, however certain
POWER = 0.8         # the power the minimum detectable effect (MDE) is quoted at
MATCH = 0.01        # compute-matched: total tokens (and FLOPs when known) within 1%
# chrF (0-100) below which a "translation" is mostly wrong words: such a baseline cannot show
# whether translation stops scaling (the dictionary translator measured 3, a real MT system 40+).
CHRF_MIN = 20.0
JUDGED = ("test", "ood")  # the sets verdicts read; val only picks settings (and stands in for
# test in runs that have no test set: the report then says so)

SUP, NOT, NOISE, NOTRUN, UNTESTABLE = ("supported", "not supported", "inconclusive", "not run",
                                       "not testable")
KNOWLEDGE = ("joint", "seq_hrl_lrl", "seq_lrl_hrl", "mix_scalex_schedule", "prop10", "prop25",
             "prop50", "scalex_fixed")
LRL_ONLY = ("lrl_only", "lrl_only_epochs")
SIZE_FREE = ("lrl_epochs",)  # what the best-LRL-only sweep varies (and only it)


# --- paired comparisons ---------------------------------------------------------------------
def compare(name, terms, split, lang):
    """terms [(coef, point)] -> per common seed sum(coef * bpb); its mean, 95% CI and p."""
    per = [{s: r.get(f"{split}.{lang}") for s, r in p["runs"].items()} for _, p in terms]
    seeds = set.intersection(*[{s for s, v in d.items() if v is not None} for d in per])
    d = [sum(k * v[s] for (k, _), v in zip(terms, per)) for s in sorted(seeds, key=str)]
    t = {"name": name, "split": split, "lang": lang, "n": len(d), "delta": None, "sd": None,
         "ci": None, "p": None}
    if d:
        t["delta"] = sum(d) / len(d)
    if len(d) >= 2:
        from scipy.stats import t as tdist
        t["sd"] = math.sqrt(sum((x - t["delta"]) ** 2 for x in d) / (len(d) - 1))
        if t["sd"] > 1e-9:  # identical differences carry no noise estimate: no p, no CI
            se = t["sd"] / math.sqrt(len(d))
            t["p"] = float(2 * tdist.sf(abs(t["delta"]) / se, len(d) - 1))
            h = float(tdist.ppf(0.975, len(d) - 1)) * se
            t["ci"] = (t["delta"] - h, t["delta"] + h)
    return t


def pair(name, a, b, split, lang):
    return compare(name, [(1, a), (-1, b)], split, lang)


def gain(name, small, large, split, lang):
    """What more HRL data did: bpb(large) - bpb(small), negative = it helped."""
    return compare(name, [(1, large), (-1, small)], split, lang)


def mde(t, alpha):
    """The smallest |delta| these seeds detect with probability POWER at level alpha: the paired
    t-test's power from the noncentral t, at the observed seed spread of the differences."""
    if t["sd"] is None or t["n"] < SEEDS_MIN:
        return None
    from scipy.optimize import brentq
    from scipy.stats import nct, t as tdist
    k, root_n = t["n"] - 1, math.sqrt(t["n"])
    crit = float(tdist.ppf(1 - alpha / 2, k))
    def power(nc):  # scipy's tails turn NaN far out, where the power is 1
        got = float(nct.sf(crit, k, nc) + nct.cdf(-crit, k, nc))
        return (1.0 if math.isnan(got) else got) - POWER
    return brentq(power, 0.0, 500.0) * t["sd"] / root_n


def iut(parts):
    """An intersection-union primary (the claim needs every part): its p is the largest."""
    known = [t for t in parts if t["p"] is not None]
    return max(known, key=lambda t: t["p"]) if known and len(known) == len(parts) else None


def judge(parts, family):
    """A primary's parts -> (verdict, the part that decided it). The parts' largest p, Holm-
    corrected across the claims (holm sets p_adj), below ALPHA: every part differs from zero,
    and the verdict is their common direction (each |delta| >= MIN_EFFECT). Otherwise a part
    against the claim at p < ALPHA / (claims x parts) refutes it; else inconclusive."""
    for t in parts:
        if t["n"] < SEEDS_MIN or t["p"] is None:
            return decide(t), t
    w = iut(parts)
    if w["p_adj"] < ALPHA:
        worst = max(parts, key=lambda t: t["delta"])
        if worst["delta"] <= -MIN_EFFECT:
            return SUP, w
        worst["p_adj"] = max(worst.get("p_adj", 0.0), w["p_adj"])  # every part is below it
        return (NOT if worst["delta"] >= MIN_EFFECT else f"{NOT} (|delta| below the {MIN_EFFECT:g} bpb "
                "minimum)"), worst
    bound = ALPHA / (family * len(parts))
    against = [t for t in parts if t["delta"] >= MIN_EFFECT and t["p"] < bound]
    if against:
        t = min(against, key=lambda t: t["p"])
        t["p_adj"] = min(1.0, t["p"] * family * len(parts))
        return NOT, t
    return NOISE, w


def holm(tests):
    """Holm's step-down correction; sets p_adj and the level its MDE is quoted at."""
    ts = sorted((t for t in tests if t and t["p"] is not None), key=lambda t: t["p"])
    run = 0.0
    for i, t in enumerate(ts):
        run = max(run, min(1.0, (len(ts) - i) * t["p"]))
        t["p_adj"], t["level"] = run, ALPHA / max(len(ts), 1)
    return tests


def decide(t):
    """A single comparison -> its verdict (module docstring); judge() decides a primary."""
    if t is None or t["n"] == 0:
        return NOTRUN
    if t["n"] < SEEDS_MIN:
        return f"{UNTESTABLE} ({t['n']} seeds; {SEEDS_MIN} needed)"
    if t["p"] is None:
        return f"{UNTESTABLE} (every seed gives the same difference: no noise estimate)"
    p = t.get("p_adj", t["p"])
    if p < ALPHA and abs(t["delta"]) >= MIN_EFFECT:
        return SUP if t["delta"] < 0 else NOT
    if p < ALPHA:
        return f"{NOT} (|delta| below the {MIN_EFFECT:g} bpb minimum)"
    return NOISE


# --- finding points -------------------------------------------------------------------------
def hrl_size(p):
    return p[f"budget.{p['hrl']}"]


def lrl(p):
    return p["lrls"].split(",")[0]


def deviations(pts):
    """{id(point): {key: value}}: where each point departs from the settings most points share
    (ties: ScaleX's), sizes and data and tokenizer hashes aside, and a key every point of a
    method has (translate's budget of translated text) counted as the method's own. A point
    without any deviation is on the main curves; the others are named by them."""
    skip = {"method", "data", "tok_sha"} | {f"budget.{p['hrl']}" for p in pts}
    keys = sorted({k for p in pts for k in table.settings_of(p)} - skip)
    own = {(m, k) for m in {p["method"] for p in pts} for k in keys
           if all(k in p for p in pts if p["method"] == m) and not all(k in p for p in pts)}
    mode = {}
    for k in keys:
        vals = [repr(p.get(k)) for p in pts]
        prefer = [repr(p.get(k)) for p in pts if p["method"] == "scalex"]
        mode[k] = max(sorted(set(vals)), key=lambda v: (vals.count(v), prefer.count(v)))
    return {id(p): {k: p.get(k) for k in keys if repr(p.get(k)) != mode[k] and (p["method"], k) not in own}
            for p in pts}


def name(p, dev):
    return ", ".join([p["method"]] + [f"{k} {v}" for k, v in dev[id(p)].items()])


def curve(pts, dev, method, **want):
    """The points of a method by HRL size: those with no deviation except the ones in want."""
    out = {}
    for p in sorted((p for p in pts if p["method"] == method and dev[id(p)] == want),
                    key=lambda p: -len(p["seeds"])):
        out.setdefault(hrl_size(p), p)  # one point a size (equal settings are one point already)
    return [out[s] for s in sorted(out)]


def at(c, size):
    return next((p for p in c if hrl_size(p) == size), None)


def matched(a, b):
    """Same tokens (and FLOPs where both know them) within MATCH; two points picked on val
    (tuning.py) are compared as tuned, whatever tokens their picks read."""
    if a.get("picked") and b.get("picked"):
        return True
    pairs = [(table.mean(a, col), table.mean(b, col)) for col in ("tokens", "flops")]
    return all(not (x and y) or abs(x - y) <= MATCH * max(x, y) for x, y in pairs)


def best_lrl_only(pts, dev, p):
    """The LRL-only point of lowest mean val bpb on p's LRL (any epoch count: the sweep's pick,
    made on val, never on a set the verdicts read)."""
    cands = [q for q in pts if q["method"] in LRL_ONLY and lrl(q) == lrl(p) and set(dev[id(q)]) <= set(SIZE_FREE)]
    return tuning.choose(cands, "best LRL-only")[0]


def epochs(p):
    return f"{table.mean(p, 'epochs.' + lrl(p)) or 0:.3g} {lrl(p)} epochs"


def sizes_txt(a, b):
    return f"{fmt_tokens(hrl_size(a))}->{fmt_tokens(hrl_size(b))}"


def fmt_tokens(n):
    return f"{n / 1e6:.4g}M" if n >= 1e6 else f"{n / 1e3:.4g}k" if n >= 1e3 else f"{n:g}"


# --- the claims -----------------------------------------------------------------------------
# Each: (points, deviations, split) -> {"primary": [comparisons] (an intersection-union test),
# "secondary": [comparisons], "why": the reason when there is no primary}.
def claim_transform(pts, dev, split):
    """(a) translation / code-switching stop scaling while knowledge transfer does not: over
    each transform's last HRL step, ScaleX's gain minus the transform's gain < 0 (ScaleX gains
    more). Needs a translator of chrF >= CHRF_MIN (code-switching borrows its lexicon's chrF)."""
    prim, sec, weak = [], [], []
    sx = curve(pts, dev, "scalex")
    chrf = {p.get("translator"): table.mean(p, "chrf") for p in pts if table.mean(p, "chrf") is not None}
    for m in ("translate", "codeswitch"):
        c = curve(pts, dev, m)
        if len(c) < 2:
            continue
        q = chrf.get(c[-1]["runs"][c[-1]["seeds"][0]].get("translator"), max(chrf.values(), default=None))
        if q is None or q < CHRF_MIN:
            weak.append(f"{m} {'chrF not recorded' if q is None else f'chrF {q:.1f}'}")
            continue
        a, b = c[-2], c[-1]
        s0, s1 = at(sx, hrl_size(a)), at(sx, hrl_size(b))
        sec += [gain(f"{m} gain {sizes_txt(a, b)}", a, b, split, lrl(a))]
        if s0 and s1:
            prim.append(compare(f"scalex gain minus {m} gain {sizes_txt(a, b)}",
                                [(1, s1), (-1, s0), (-1, b), (1, a)], split, lrl(a)))
    why = ((UNTESTABLE, f"the translator is too weak to test it ({', '.join(weak)}; "
                        f"{CHRF_MIN:g} needed): its text is mostly not a translation") if weak
           else (NOTRUN, "needs translate or codeswitch, and scalex, at 2 HRL sizes"))
    return {"primary": prim, "secondary": sec, "why": why}


def scaling(c, split):
    """A method scales if it improves over the range AND over the last step (the last doubling
    at the quickstart): [range gain, last-step gain]."""
    if len(c) < 2:
        return []
    m, l = c[0]["method"], lrl(c[0])
    out = [gain(f"{m} gain {sizes_txt(c[0], c[-1])}", c[0], c[-1], split, l)]
    if len(c) > 2:
        out.append(dict(gain(f"{m} gain {sizes_txt(c[-2], c[-1])} (last step)", c[-2], c[-1], split, l),
                        **{"from": fmt_tokens(hrl_size(c[-2]))}))
    return out


def claim_knowledge(pts, dev, split):
    """(b) knowledge transfer scales with HRL data: ScaleX improves over the HRL range and over
    its last step. The other knowledge-transfer methods' curves are secondary."""
    sec = [t for m in KNOWLEDGE for t in scaling(curve(pts, dev, m), split)]
    return {"primary": scaling(curve(pts, dev, "scalex"), split), "secondary": sec,
            "why": (NOTRUN, "needs scalex at 2+ HRL sizes")}


def baselines(pts, dev, p):
    """[(name, point or None: not compute-matched)]: the compute-matched joint and LRL-only at
    p's size, the data transformations run there, and the best LRL-only."""
    out = []
    for m in ("joint", "lrl_only", "translate", "codeswitch"):
        b = at(curve(pts, dev, m), hrl_size(p))
        if b:
            out.append((f"{m} (compute-matched)" if matched(b, p) else f"{m} (not compute-matched: "
                        f"{table.mean(b, 'tokens') / table.mean(p, 'tokens'):.0%} of the tokens)",
                        b if matched(b, p) else None))
    best = best_lrl_only(pts, dev, p)
    if best and all(b is not best for _, b in out):
        out.append((f"best LRL-only ({epochs(best)})", best))
    return out


def claim_scalex(pts, dev, split):
    """(c) ScaleX beats every baseline (compute-matched joint and LRL-only, the data
    transformations, the best LRL-only) at the largest HRL size. Secondary: the other sizes,
    ScaleX's gain from English against joint's, and every other method against ScaleX."""
    sx = curve(pts, dev, "scalex")
    if not sx:
        return {"primary": [], "secondary": [], "why": (NOTRUN, "needs scalex runs")}
    l, top = lrl(sx[0]), sx[-1]
    # a baseline that is not compute-matched is a part with no numbers: the claim is "not run"
    test = lambda p, n, b: (pair(f"scalex - {n} at {fmt_tokens(hrl_size(p))}", p, b, split, l) if b else
                            {"name": f"scalex - {n} at {fmt_tokens(hrl_size(p))}", "split": split, "lang": l,
                             "n": 0, "delta": None, "sd": None, "ci": None, "p": None})
    prim = [test(top, n, b) for n, b in baselines(pts, dev, top)]
    sec = [test(p, n, b) for p in sx[:-1] for n, b in baselines(pts, dev, p)]
    jc = curve(pts, dev, "joint")
    j0, j1 = at(jc, hrl_size(sx[0])), at(jc, hrl_size(top))
    if j0 and j1 and j0 is not j1:
        sec.append(compare(f"scalex gain minus joint gain {sizes_txt(sx[0], top)}",
                           [(1, top), (-1, sx[0]), (-1, j1), (1, j0)], split, l))
    for p in sx:
        for q in pts:
            if (q["method"] not in LRL_ONLY + ("scalex", "joint", "translate", "codeswitch")
                    and hrl_size(q) == hrl_size(p)
                    and lrl(q) == l and "lrls" not in dev[id(q)] and matched(p, q)):
                sec.append(pair(f"{name(q, dev)} - scalex at {fmt_tokens(hrl_size(p))}", q, p, split, l))
    return {"primary": prim, "secondary": sec, "why": (NOTRUN, "no baseline at scalex's sizes")}


def _largest_pairs(pairs):
    """[(size, test)] -> (the tests at the largest size, the rest)."""
    if not pairs:
        return [], []
    top = max(s for s, _ in pairs)
    return [t for s, t in pairs if s == top], [t for s, t in pairs if s != top]


def claim_schedule(pts, dev, split):
    """(d) ScaleX's schedule (constant, then cosine) beats the other schedules on its data order
    (cosine re-warmed, WSD) at the largest size both ran. Secondary: other sizes, and joint's
    mixture under ScaleX's schedule against joint."""
    sx, jc = curve(pts, dev, "scalex"), curve(pts, dev, "joint")
    pairs = [(hrl_size(v), pair(f"scalex - {m} at {fmt_tokens(hrl_size(v))}", at(sx, hrl_size(v)), v,
                                 split, lrl(v)))
             for m in ("scalex_cosine", "scalex_wsd") for v in curve(pts, dev, m) if at(sx, hrl_size(v))]
    prim, sec = _largest_pairs(pairs)
    sec += [pair(f"mix_scalex_schedule - joint at {fmt_tokens(hrl_size(v))}", v, at(jc, hrl_size(v)),
                 split, lrl(v)) for v in curve(pts, dev, "mix_scalex_schedule") if at(jc, hrl_size(v))]
    return {"primary": prim, "secondary": sec, "why": (NOTRUN, "needs the ablate-lr runs")}


def claim_tokens(pts, dev, split):
    """(e) tokens shared across languages matter: ScaleX with the joint tokenizer beats ScaleX
    with a disjoint one at the largest size both ran (the data, and with the vocabulary the
    parameter count, differ by necessity). Secondary: joint's recipe, and other sizes."""
    pairs, sec = [], []
    for m in ("scalex", "joint"):
        c = curve(pts, dev, m)
        for v in [q for q in pts if q["method"] == m and dev[id(q)].get("tokenizer") == "disjoint"
                  and set(dev[id(q)]) <= {"tokenizer", "vocab_size"}]:
            if at(c, hrl_size(v)):
                t = pair(f"{m} shared - disjoint tokens at {fmt_tokens(hrl_size(v))}",
                         at(c, hrl_size(v)), v, split, lrl(v))
                (pairs.append((hrl_size(v), t)) if m == "scalex" else sec.append(t))
    prim, rest = _largest_pairs(pairs)
    return {"primary": prim, "secondary": rest + sec, "why": (NOTRUN, "needs the ablate-tokens runs")}


def claim_multilingual(pts, dev, split):
    """(f) ScaleX generalises to several LRLs: it beats joint on every LRL at the largest size
    of the multilingual runs."""
    pairs = []
    for v in [p for p in pts if p["method"] == "scalex" and "," in p["lrls"]]:
        j = next((q for q in pts if q["method"] == "joint" and dev[id(q)] == dev[id(v)]
                  and hrl_size(q) == hrl_size(v)), None)
        if j:
            name = f"scalex - joint on {{}} at {fmt_tokens(hrl_size(v))}"
            pairs += [(hrl_size(v), pair(name.format(l), v, j, split, l)) for l in v["lrls"].split(",")]
    prim, sec = _largest_pairs(pairs)
    return {"primary": prim, "secondary": sec, "why": (NOTRUN, "needs the multilingual runs")}


CLAIMS = {
    "a": ("data transformation (translate, codeswitch) does not keep scaling", claim_transform),
    "b": ("knowledge transfer (ScaleX) scales with HRL data", claim_knowledge),
    "c": ("ScaleX beats every baseline (joint, LRL-only, transformed data, best LRL-only)", claim_scalex),
    "d": ("ScaleX's constant-then-cosine LR schedule beats cosine and WSD", claim_schedule),
    "e": ("tokens shared across languages matter (joint vs disjoint tokenizer)", claim_tokens),
    "f": ("ScaleX generalises to more LRLs (beats joint on each)", claim_multilingual),
}


def judged_sets(pts):
    """The evaluation sets the verdicts read, the first one primary: test and ood where the runs
    have them; val when they have no test (the report says so)."""
    have = {k.split(".")[0] for p in pts for r in p["runs"].values() for k in r
            if k.split(".")[0] in table.SPLITS and r[k] is not None}
    got = [s for s in JUDGED if s in have]
    return got if "test" in got else ["val"] + got


def scale_phrase(prim, family):
    """(b): scales (the range and the last step), stops scaling at N (only the range), or the
    verdict of the parts."""
    v, t = judge(prim, family)
    if v == SUP:
        return "supported: it scales", t
    rng = prim[0]
    if (len(prim) == 2 and rng["p"] is not None and rng["p"] * family < ALPHA
            and rng["delta"] <= -MIN_EFFECT and v == NOISE):
        return f"stops scaling at {prim[1]['from']} (no gain shown over the last step)", prim[1]
    return v, t


def verdicts(pts, dev=None):
    """{claim id: {"claim", "by_set": {set: {"verdict", "primary", "tests"}}, "verdict",
    "sentence"}} over every judged set, primaries Holm-corrected across the claims per set."""
    dev, sets = dev or deviations(pts), judged_sets(pts)
    out = {k: {"claim": text, "by_set": {}} for k, (text, _) in CLAIMS.items()}
    for split in sets:
        got = {k: f(pts, dev, split) for k, (_, f) in CLAIMS.items()}
        family = max(1, sum(bool(g["primary"]) for g in got.values()))
        holm([iut(g["primary"]) for g in got.values() if g["primary"]])
        for k, g in got.items():
            for t in g["primary"]:
                t["level"], t["role"] = ALPHA / family, "primary"
            for t in g["secondary"]:
                t["level"], t["role"] = ALPHA, "secondary"
            if not g["primary"]:
                v, w = g["why"][0], None
            else:
                v, w = (scale_phrase if k == "b" else judge)(g["primary"], family)
            shown = g["primary"] if k == "b" else [w]  # scaling: the range and the last step
            out[k]["by_set"][split] = {"verdict": v, "primary": w, "tests": g["primary"] + g["secondary"],
                                       "shown": shown, "why": None if g["primary"] else g["why"][1]}
    for k, c in out.items():
        c["verdict"] = c["by_set"][sets[0]]["verdict"]
        c["sentence"] = sentence(c, sets)
    return out


def fmt_delta(t):
    if t is None or t["delta"] is None:
        return "no common seeds"
    ci = f" [{t['ci'][0]:+.3f}, {t['ci'][1]:+.3f}]" if t["ci"] else ""
    p = f", Holm p={t['p_adj']:.2g}" if t.get("p_adj") is not None else \
        f", p={t['p']:.2g}" if t["p"] is not None else ""
    return f"delta {t['delta']:+.3f}{ci} bpb{p}, {t['n']} seeds"


def sentence(c, sets):
    """What decided the verdict on each judged set, the MDE where it is inconclusive; a set whose
    delta points the other way while either set is decisive is marked as disagreeing."""
    out = []
    first = c["by_set"][sets[0]]
    whys = {c["by_set"][s]["why"] for s in sets}
    if len(whys) == 1 and None not in whys:
        w = whys.pop()
        return f"{w[0].upper()}{w[1:]}."
    decisive = lambda o: o["verdict"].startswith((SUP, NOT))
    sign = lambda o: (o["primary"] or {}).get("delta") or 0
    for split in sets:
        o = c["by_set"][split]
        t = o["primary"]
        s = (f"{split}: {o['why']}" if o["why"] else f"{split}: {o['verdict']}, "
             + ", ".join(f"{x['name']}: {fmt_delta(x)}" for x in o["shown"]))
        if o["verdict"] == NOISE and mde(t, t["level"]) is not None:
            s += f" (these seeds detect |delta| >= {mde(t, t['level']):.3f})"
        if split != sets[0] and sign(o) * sign(first) < 0 and (decisive(o) or decisive(first)):
            s = "**disagrees**: " + s
        out.append(s)
    return "; ".join(out) + "."
