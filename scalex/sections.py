"""
The report's sections beyond the claims (report.py calls them): the choices made on val, the
repeated-HRL control, the effective-data multiplier (and its figure), and the bf16 / float32
agreement check. Each takes the points, their deviations and the judged sets, and returns
Markdown lines (and a figure's path).
"""
import os

from scalex import claims, multiplier, table, tuning
from scalex.claims import fmt_tokens, hrl_size, lrl, pair

SET_NAMES = {"val": "val (in-domain; picks settings)", "test": "test (in-domain, held out)",
             "ood": "ood (out-of-domain Chinese)"}


def _cell(x):
    return str(x).replace("|", "\\|")  # a "|" inside a cell would end it


def md_table(head, body):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(_cell(c) for c in r) + " |" for r in body])


def pm(p, col, bold=False):
    m, s = table.mean(p, col), table.std(p, col)
    if m is None:
        return ""
    txt = f"{m:.3f}" + ("" if s is None else f" ± {s:.3f}")
    return f"**{txt}**" if bold else txt


# What the multiplier is set beside: a reference measurement (Arabic/English pretraining of
# 150M-1.43B parameters) found mixing English worth 2-3x the unique Arabic data on validation
# loss, more with model size.
OUTSIDE = "2-3x (a reference measurement: Arabic/English, 150M-1.43B parameters, validation loss)"


def choices_section(records):
    """Every choice: the grid, each point's mean val bpb and seeds, the pick."""
    body = []
    for r in records:
        grid = "; ".join(", ".join(f"{k} {v:g}" for k, v in g["setting"].items()) + f": {g['val']:.3f} ({g['seeds']})"
                         for g in r["grid"])
        body.append([r["what"], r["column"], grid, ", ".join(f"{k} {v:g}" for k, v in r["picked"].items())])
    return ["## Choices (made on val only)", "",
            "Each setting below was picked as the grid point of lowest mean val bpb (seeds in brackets). "
            "No choice reads test or the out-of-domain text, which judge them.", "",
            md_table(["choice", "column read", "grid: mean val bpb (seeds)", "picked"], body) if body
            else "No grid was run.", ""]


def _paired_section(title, why, pairs, sets):
    """A section of pairs [(name, A, B)]: A and B means per set, delta A - B [CI] p (seeds)."""
    if not pairs:
        return []
    body = []
    for name, a, b in pairs:
        row = [name, fmt_tokens(hrl_size(a))]
        for s in sets:
            t = pair(name, a, b, s, lrl(a))
            ci = f" [{t['ci'][0]:+.3f}, {t['ci'][1]:+.3f}] p={t['p']:.2g}" if t["ci"] else ""
            row += [pm(a, f"{s}.{lrl(a)}"), pm(b, f"{s}.{lrl(a)}"),
                    "" if t["delta"] is None else f"{t['delta']:+.3f}{ci} ({t['n']})"]
        body.append(row)
    head = ["comparison (A - B)", "HRL tokens"] + [x for s in sets for x in (f"A {s}", f"B {s}", f"delta {s} (seeds)")]
    return [f"## {title}", "", why, "", md_table(head, body), ""]


def control_section(pts, dev, sets):
    """joint and scalex with the HRL's unique text fixed (hrl_unique) against unique HRL text,
    at equal compute: what the HRL's *data* did, apart from the compute it brought."""
    pairs = []
    for m in ("joint", "scalex"):
        c = claims.curve(pts, dev, m)
        for q in sorted((q for q in pts if q["method"] == m and set(dev[id(q)]) == {"hrl_unique"}), key=hrl_size):
            u = claims.at(c, hrl_size(q))
            if u:
                pairs.append((f"{m}: {q['hrl']} {fmt_tokens(q['hrl_unique'])} unique, repeated - all unique", q, u))
    return _paired_section("The repeated-HRL control",
                           "Each pair trains the same tokens in the same steps; A reads a fixed unique HRL text "
                           "again and again, B reads new HRL text throughout. A positive delta is what unique HRL "
                           "data adds beyond its compute.", pairs, sets)


def dtype_section(pts, dev, sets):
    """The same runs in float32 and under bf16 autocast: their difference against the seeds' spread."""
    pairs = []
    for q in (q for q in pts if dev[id(q)] == {"dtype": "float32"}):
        b = next((p for p in pts if p["method"] == q["method"] and not dev[id(p)] and hrl_size(p) == hrl_size(q)), None)
        if b and b.get("dtype") != q.get("dtype"):
            pairs.append((f"{q['method']}: float32 - {b.get('dtype')}", q, b))
    return _paired_section("bf16 autocast against float32",
                           "The same runs (seeds, data, plan) under each precision: they agree when the paired "
                           "delta is small beside the seed spread (±) of either.", pairs, sets)


def multiplier_rows(pts, dev, dev_t, sets):
    """[(series name, {size: {set: result}})] of every method curve, tuned and untuned, and the
    control; and the reference curve with its choice records."""
    l = lrl(next(p for p in pts if p["method"] == "scalex")) if any(p["method"] == "scalex" for p in pts) else "zh"
    curve, recs = multiplier.reference(pts, dev, l)
    series = []
    for label, d, m, want in [("lrl_only (compute-matched)", dev, "lrl_only", {}), ("joint", dev, "joint", {}),
                              ("scalex", dev, "scalex", {}), ("joint, tuned", dev_t, "joint", {}),
                              ("scalex, tuned", dev_t, "scalex", {})]:
        c = claims.curve(pts, d, m, **want)
        if c:
            series.append((label, {hrl_size(p): {s: multiplier.multiplier(curve, p, s) for s in sets} for p in c}))
    for m in ("joint", "scalex"):
        c = [q for q in pts if q["method"] == m and set(dev[id(q)]) == {"hrl_unique"}]
        if c:
            u = fmt_tokens(c[0]["hrl_unique"])
            series.append((f"{m}, {u} unique HRL repeated",
                           {hrl_size(p): {s: multiplier.multiplier(curve, p, s) for s in sets} for p in c}))
    return series, curve, recs


def multiplier_section(pts, dev, dev_t, sets, out_dir):
    """The reference curve, the multiplier per method x HRL size per set, its figure."""
    series, curve, recs = multiplier_rows(pts, dev, dev_t, sets)
    if len(curve) < 2 or not series:
        return [], None, recs, []
    l = lrl(curve[0][1])
    ref = [[fmt_tokens(u), f"{table.mean(p, 'epochs.' + l) or 0:.3g}"] + [pm(p, f"{s}.{l}") for s in ["val"] + sets]
           for u, p in curve]
    fits = "; ".join(f"{s}: bpb = {a:.3f} {b:+.3f} log2(U)" for s in sets
                     for a, b in [multiplier.fit([u for u, _ in curve], [table.mean(p, f'{s}.{l}') for _, p in curve])])
    sizes = sorted({n for _, d in series for n in d})
    body = [[f"{name} ({s})"] + [multiplier.fmt(d.get(n, {}).get(s)) for n in sizes]
            for s in sets for name, d in series]
    png = _plot(series, sets, os.path.join(out_dir, "report-multiplier.png"))
    return ["## The effective-data multiplier", "",
            f"How much unique {l} text LRL-only would need to reach each point's bpb, over the "
            f"{fmt_tokens(curve[0][1]['budget.' + l])} it used (scalex/multiplier.py): 1x = worth no more than "
            f"LRL-only's best; [95% bootstrap interval over seeds]; * = beyond the reference curve's range "
            f"({fmt_tokens(curve[0][0])}-{fmt_tokens(curve[-1][0])} unique tokens), an extrapolation. For "
            f"scale: {OUTSIDE}.", "",
            "The reference curve (LRL-only, each budget at its epochs picked on val):", "",
            md_table(["unique tokens U", "epochs (picked)"] + [f"{s} bpb" for s in ["val"] + sets], ref), "",
            f"Fits: {fits}.", "",
            md_table(["series (set)"] + [f"{curve[0][1]['hrl']} {fmt_tokens(n)}" for n in sizes], body), "",
            "![multiplier](report-multiplier.png)", ""], png, recs, series


def _plot(series, sets, path):
    from scalex import plots
    plt = plots._plt()
    fig, axes = plt.subplots(1, len(sets), figsize=(5.2 * len(sets), 4), squeeze=False)
    for ax, s in zip(axes[0], sets):
        xs = []
        for i, (name, d) in enumerate(series):
            pts = sorted((n, r[s]) for n, r in d.items() if r.get(s))
            if not pts:
                continue
            x = [n for n, _ in pts]
            xs += x
            y = [r["m"] for _, r in pts]
            err = [[r["m"] - (r["lo"] or r["m"]) for _, r in pts], [(r["hi"] or r["m"]) - r["m"] for _, r in pts]]
            m = name.split(",")[0].split(" ")[0]
            ax.errorbar(x, y, yerr=err, label=name, color=plots.COLORS.get(m, "#7f7f7f"),
                        linestyle=plots.STYLES[i % len(plots.STYLES)], marker="o", capsize=3)
        ax.axhline(1.0, color="#000000", linewidth=0.8)
        if xs:
            plots._log_x(ax, xs)
        ax.set_yscale("log")
        ax.set_title(f"effective-data multiplier on {s}")
        ax.set_xlabel("HRL tokens")
        ax.set_ylabel("x the unique LRL data")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return plots._save(fig, path)


def definitions(sets):
    return "\n".join([
        "- bpb: bits per UTF-8 byte of held-out text (eval.py), lower is better; it does not depend on "
        "the tokenizer. ± is the standard deviation over seeds.",
        f"- Sets: {'; '.join(SET_NAMES[s] for s in ['val'] + [s for s in sets if s != 'val'])}. "
        "Verdicts read the judged sets, each on its own row, never averaged; settings are picked on val.",
        "- delta = bpb(A) - bpb(B) per common seed (paired: the same seeds train every method); negative "
        "means A is better. 95% CI and p: a paired t-test over seeds.",
        f"- Primary: one comparison per claim, fixed in claims.py before any run; where it has parts (every "
        f"baseline, every LRL) each must hold and its p is the largest (intersection-union). The primaries "
        f"are Holm-corrected across claims per set (family-wise error {claims.ALPHA:g}); secondary rows "
        f"show raw p and carry no verdict.",
        f"- supported / not supported: {claims.SEEDS_MIN}+ seeds, Holm p < {claims.ALPHA:g} and |delta| >= "
        f"{claims.MIN_EFFECT:g} bpb, for / against the claim. Seeds that all give the same difference give "
        f"no noise estimate: not testable. Otherwise inconclusive, with the MDE: the |delta| these seeds "
        f"detect with power {claims.POWER:g} at the level used (primary: {claims.ALPHA:g} / claims).",
        "- A method scales if it improves over the whole HRL range AND over its last step; if only the "
        "range holds, it stops scaling at the last step's start.",
        f"- Compute-matched: same model, tokens (and FLOPs) within {claims.MATCH:.0%}. The best LRL-only "
        "is the LRL-only run of lowest val bpb over its epoch sweep: tuned, not compute-matched.",
        "- A run's name is its method plus every setting in which it departs from what most runs share; "
        "runs.csv holds one row per run with every setting and result.",
    ])
