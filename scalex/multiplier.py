"""
The effective-data multiplier: how much unique LRL text LRL-only would need to reach the bpb a
method reaches, over the unique LRL text the method used. "scalex at en 400k: 1.7x" means the
English made its 20k Chinese tokens worth 34k. It is what makes cross-lingual *data* scaling
visible: the multiplier against the HRL size.

The reference curve is LRL-only at several unique LRL budgets U (the sweep's `reference`), each
at its best epoch count picked on val (tuning.choose), never on the set it is read on. On each
judged set the curve's means are fitted by least squares as bpb = a + b log2(U), and a bpb y
maps to U(y) = 2^((y - a) / b). A multiplier whose U(y) lies outside the curve's range is an
extrapolation and is marked so. The 95% interval is a bootstrap over seeds: the seeds are
resampled with replacement, the same draw for the reference and the method (every run of a
seed shares its initialisation and data order), and the fit and the mapping are redone.
"""
import math
import random

from scalex import tuning

BOOT = 2000      # bootstrap resamples
CONF = 0.95      # the interval's coverage


def reference(pts, dev, lang):
    """([(unique LRL tokens, point)], [choice records]): at each unique budget of the LRL, the
    lrl_only_epochs point of lowest val bpb among its epoch counts."""
    key = f"budget.{lang}"
    by = {}
    for p in pts:
        if p["method"] == "lrl_only_epochs" and tuning.lang_of(p) == lang and set(dev[id(p)]) <= {"lrl_epochs", key}:
            by.setdefault(p[key], []).append(p)
    curve, recs = [], []
    for u in sorted(by):
        best, rec = tuning.choose(by[u], f"LRL-only reference at {u:,} unique {lang} tokens")
        if best is not None:
            curve.append((u, best))
            recs.append(rec)
    return curve, recs


def fit(us, ys):
    """(a, b) of the least-squares line bpb = a + b log2(U)."""
    xs = [math.log2(u) for u in us]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def _mean(p, col, seeds):
    vals = [p["runs"][s].get(col) for s in seeds]
    return None if None in vals else sum(vals) / len(vals)


def _value(curve, p, col, seeds):
    """(multiplier, U(y)) on these seeds (a list that may repeat a seed), or None: a curve that
    does not fall with more data maps no bpb to a data size."""
    ys = [_mean(q, col, seeds) for _, q in curve]
    y = _mean(p, col, seeds)
    if y is None or None in ys:
        return None
    a, b = fit([u for u, _ in curve], ys)
    if b >= 0:
        return None
    u = 2 ** ((y - a) / b)
    return u / p[f"budget.{tuning.lang_of(p)}"], u


def multiplier(curve, p, split):
    """{"m", "lo", "hi", "u", "extrapolated", "seeds", "failed"} of point p on a judged set, or
    None without a reference of 2+ budgets sharing p's seeds."""
    col = f"{split}.{tuning.lang_of(p)}"
    seeds = sorted(set(p["seeds"]).intersection(*[q["seeds"] for _, q in curve]), key=str)
    if len(curve) < 2 or not seeds:
        return None
    got = _value(curve, p, col, seeds)
    if got is None:
        return None
    rng, boot, failed = random.Random(0), [], 0
    for _ in range(BOOT if len(seeds) > 1 else 0):
        v = _value(curve, p, col, [rng.choice(seeds) for _ in seeds])
        boot.append(v[0]) if v else None
        failed += v is None
    boot.sort()
    lo, hi = (boot[int((1 - CONF) / 2 * len(boot))], boot[int((1 + CONF) / 2 * len(boot)) - 1]) if boot else (None, None)
    us = [u for u, _ in curve]
    return {"m": got[0], "lo": lo, "hi": hi, "u": got[1], "seeds": len(seeds), "failed": failed,
            "extrapolated": not min(us) <= got[1] <= max(us)}


def fmt(r):
    """"1.7x [1.3, 2.2]" (with "*" when extrapolated)."""
    if r is None:
        return ""
    ci = f" [{r['lo']:.2g}, {r['hi']:.2g}]" if r["lo"] is not None else ""
    return f"{r['m']:.2g}x{ci}" + ("*" if r["extrapolated"] else "")
