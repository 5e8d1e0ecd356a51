"""
The report: the run table (table.py) and the claims' verdicts (claims.py) as Markdown.

    python eval.py report runs/quickstart     ROOT/report.md, ROOT/runs.csv and the figures
    python eval.py report results/quickstart --readme=README.md   ... and README.md's answer block

report.md opens with the answer (one screen: the setting, the method x HRL-size table, one line
per claim, two figures), then a section per claim with its comparisons, then the experiments in
the paper's order, then the definitions. Every number is bits per UTF-8 byte (bpb) of held-out
text: it does not depend on the tokenizer, so a joint and a disjoint vocabulary compare.
"""
import os

from scalex import claims, plots, sections, table, tuning
from scalex.claims import fmt_tokens, hrl_size, lrl
from scalex.configurator import ConfigError
from scalex.files import atomic_write
from scalex.sections import md_table, pm

ORDER = ("lrl-only", "mix", "scalex", "tune", "control", "dtype", "order", "proportion", "translate",
         "codeswitch", "stage2", "ablate-lr", "ablate-tokens", "lrl-epochs", "multilingual")  # the paper's order
MAIN = ("lrl_only", "joint", "translate", "codeswitch", "scalex")  # with the best LRL-only: <= 6 lines
BEGIN, END = "<!-- answer -->", "<!-- /answer -->"  # README.md carries this block verbatim


# --- the answer -----------------------------------------------------------------------------
def setting(rows, pts, sets):
    sx = [p for p in pts if p["method"] == "scalex"] or pts
    p0 = sx[0]
    seeds, dirty = len({r["seed"] for r in rows}), " (uncommitted changes)"
    commits = sorted({(r.get("commit") or "unknown")[:10] + dirty * bool(r.get("dirty")) for r in rows})
    wall = sum(r.get("wall_s") or 0 for r in rows)
    sizes = sorted({hrl_size(p) for p in sx})
    fallback = "" if "test" in sets else " These runs have no test set: val stands in for it, " \
        "though it also picked the best LRL-only."
    mixed = [p for p in pts if len({r.get("code_sha") for r in p["runs"].values()}) > 1]
    if mixed:
        fallback += (f" **{len(mixed)} of {len(pts)} points mix seeds trained or scored by different "
                     f"code** ({', '.join(table.METHOD_FILES)} differ; runs.csv's code_sha): train them "
                     f"again at one commit.")
    params = (table.mean(p0, "params") or 0) / 1e6
    return (f"**Setting.** model {p0.get('model')} ({params:.2g}M non-embedding params), "
            f"{lrl(p0)} {p0.get('budget.' + lrl(p0)):,} unique tokens, "
            f"{p0['hrl']} {', '.join(fmt_tokens(s) for s in sizes)}; {seeds} seeds, {len(rows)} runs, "
            f"{wall / 60:.0f} min of training (sum over runs); code {', '.join(commits)}. Verdicts read "
            f"{' and '.join(sets)}; every choice (tuned settings, best LRL-only, the reference curve's "
            f"epochs) reads val.{fallback}")


def main_points(pts, dev, split):
    """[(name, {size: point})] of the answer's methods; and the best LRL-only of the largest."""
    sx = claims.curve(pts, dev, "scalex")
    lines = []
    for m in MAIN:
        c = {hrl_size(p): p for p in claims.curve(pts, dev, m) if any(hrl_size(p) == hrl_size(q) for q in sx)}
        if c:
            lines.append((m + (" (compute-matched)" if m == "lrl_only" else ""), c))
    best = claims.best_lrl_only(pts, dev, sx[-1]) if sx else None
    return lines, best, [hrl_size(p) for p in sx]


def answer_table(pts, dev, split, verdict):
    """method x HRL size, mean ± std, best per column in bold; then ScaleX - best baseline."""
    lines, best, sizes = main_points(pts, dev, split)
    if not sizes:
        return "", None
    l = lrl(lines[0][1][sizes[0]])
    col = f"{split}.{l}"
    means = {s: [table.mean(c[s], col) for _, c in lines if s in c and table.mean(c[s], col) is not None]
             + ([table.mean(best, col)] if best and table.mean(best, col) is not None else []) for s in sizes}
    body = [[n] + [pm(c[s], col, bold=table.mean(c[s], col) == min(means[s])) if s in c else ""
                   for s in sizes] for n, c in lines]
    if best:
        body.append([f"best LRL-only: {claims.name(best, dev)} at {fmt_tokens(hrl_size(best))} "
                     f"({claims.epochs(best)}; picked on val)"]
                    + [pm(best, col, bold=table.mean(best, col) == min(means[s])) for s in sizes])
    diff = ["**scalex - best baseline** [95% CI], raw p"]
    for s in sizes:
        tests = [t for t in verdict["by_set"][split]["tests"] if t["name"].startswith("scalex - ")
                 and t["name"].endswith(f" at {fmt_tokens(s)}")]
        b = min(tests, key=lambda t: -(t["delta"] if t["delta"] is not None else -9), default=None)
        diff.append("" if b is None or b["delta"] is None else
                    f"{b['delta']:+.3f}" + (f" [{b['ci'][0]:+.3f}, {b['ci'][1]:+.3f}], p={b['p']:.2g}"
                                            if b["ci"] else " (no seed spread)"))
    body.append(diff)
    head = [f"{l} bpb on {split}"] + [f"{lines[0][1][sizes[0]]['hrl']} {fmt_tokens(s)}" for s in sizes]
    return md_table(head, body), best


def answer_line(v, sets):
    """The answer in one line: per set, ScaleX against its strongest baseline at the largest HRL
    size, and the comparison claim (c)'s verdict rests on (its least certain part)."""
    parts, size = [], None
    for split in sets:
        o = v["c"]["by_set"][split]
        prim = [t for t in o["tests"] if t["role"] == "primary" and t["delta"] is not None]
        if not prim:
            continue
        top = max(prim, key=lambda t: t["delta"])
        who, size = top["name"].split(" - ", 1)[1].rsplit(" at ", 1)
        word = "better" if top["delta"] < 0 else "worse"
        p = f"raw p={top['p']:.2g}" if top["p"] is not None else f"{top['n']} seed(s): no p"
        s = f"on {split} ScaleX is {abs(top['delta']):.3f} bpb {word} than its strongest baseline, {who}"
        s += f" ({p})"
        d = o["primary"]
        if d is not top and d.get("delta") is not None:
            s += f", and {d['delta']:+.3f} against {d['name'].split(' - ', 1)[1].rsplit(' at ', 1)[0]}"
        parts.append(s)
    if not parts:
        return "**Answer.** Not run: the report needs scalex and a baseline at one HRL size at least."
    return (f"**Answer.** Does ScaleX beat every baseline at the largest HRL size ({size})? "
            f"**{v['c']['verdict']}** (claim c): " + "; ".join(parts) + ".")


def first_screen(rows, pts, dev, v, v_untuned, mult, sets, tuned):
    out = [BEGIN, answer_line(v, sets), "", setting(rows, pts, sets), "",
           "Tables: bits per byte, mean ± seed std, lower is better, bold = best in its column; "
           "delta = A - B in bpb, negative = A better. Tuned: each method at the settings its grid "
           "picked on val (Choices below); the LRL-only baseline is then the best LRL-only.", ""]
    for split in sets:
        t, _ = answer_table(pts, dev, split, v["c"])
        out += [t, ""] if t else []
    how = "tuned against tuned" if tuned else "every recipe at its configured settings (no tune grid ran)"
    out += [f"**Claims, {how}** (one primary comparison each, Holm-corrected across the claims per set; "
            "each claim's section below lists every comparison; untuned: the recipes at their configured "
            "settings, compute-matched):", ""]
    out += [f"- ({k}) {c['claim']}: **{c['verdict']}** (untuned: {v_untuned[k]['verdict']}). {c['sentence']}"
            for k, c in v.items()]
    out += ([f"- Effective-data multiplier at the largest HRL size (tuned; section below): {mult}"] if mult else [])
    out += ["", "![main comparison](report.png) ![learning curves](report-curves.png)"
            + (" ![multiplier](report-multiplier.png)" if mult else ""), END]
    return out


# --- the claims' sections -------------------------------------------------------------------
def claim_section(k, c, sets, view="tuned"):
    body = []
    for split in sets:
        for t in c["by_set"][split]["tests"]:
            m = claims.mde(t, t["level"])
            body.append([t["name"], split, t["role"], t["n"],
                         "" if t["delta"] is None else f"{t['delta']:+.4f}",
                         f"[{t['ci'][0]:+.3f}, {t['ci'][1]:+.3f}]" if t["ci"] else "",
                         "" if t["p"] is None else f"{t['p']:.2g}",
                         "" if t.get("p_adj") is None or t["role"] != "primary" else f"{t['p_adj']:.2g}",
                         "" if m is None else f"{m:.3f}", claims.decide(t) if t["role"] == "primary" else ""])
    head = ["comparison (delta = A - B)", "set", "role", "seeds", "delta bpb", "95% CI", "p", "Holm p",
            "MDE", "verdict"]
    return [f"## Claim ({k}), {view}: {c['claim']}", "", f"**{c['verdict']}**. {c['sentence']}", "",
            md_table(head, body) if body else "No comparison could be made.", ""]


# --- the experiments ------------------------------------------------------------------------
def experiment_table(exp_pts, dev, sets):
    langs = sorted({k.split(".")[1] for p in exp_pts for r in p["runs"].values() for k in r
                    if k.split(".")[0] in ("val",) + tuple(sets) and not k.endswith(".se")},
                   key=lambda l: (l == exp_pts[0]["hrl"], l))  # the LRLs first
    cols = [f"{s}.{l}" for s in dict.fromkeys(["val"] + sets) for l in langs
            if any(table.mean(p, f"{s}.{l}") is not None for p in exp_pts)]
    extra = sorted({k for p in exp_pts for r in p["runs"].values() for k in r
                    if k.startswith(("extra.", "acc."))})
    head = ["run (method, settings that differ)", "HRL tokens", "LRL epochs", "tokens trained", "steps",
            "seeds"] + [f"{c} bpb" for c in cols] + extra
    body = []
    for p in sorted(exp_pts, key=lambda p: (p["method"], hrl_size(p), claims.name(p, dev))):
        ep = table.mean(p, f"epochs.{lrl(p)}")
        body.append([claims.name(p, dev), fmt_tokens(hrl_size(p)), "" if ep is None else f"{ep:.3g}",
                     fmt_tokens(table.mean(p, "tokens") or 0), f"{table.mean(p, 'steps') or 0:.0f}",
                     len(p["seeds"])] + [pm(p, c) for c in cols] + [pm(p, c) for c in extra])
    return md_table(head, body)


def multiplier_line(series, sets):
    """The multiplier of the tuned methods at their largest HRL size, per set, in one line."""
    parts = []
    for name, d in series:
        if name.endswith("tuned") and d:
            top = max(d)
            parts.append(f"{name.split(',')[0]} at {fmt_tokens(top)}: "
                         + ", ".join(f"{s} {sections.multiplier.fmt(d[top][s])}" for s in sets))
    return "; ".join(parts)


def report(root, out_md=None):
    """Write report.md (or out_md), runs.csv and the figures; return (text, md path, files)."""
    rows = table.load(root)
    pts = table.points(rows)
    dev, sets = claims.deviations(pts), claims.judged_sets(pts)
    v_untuned = claims.verdicts(pts, dev)
    dev_t, choices = tuning.tuned_view(pts, dev)  # after the untuned verdicts: it marks picks
    v = claims.verdicts(pts, dev_t)
    out_md = out_md or os.path.join(root, "report.md")
    out_dir = os.path.dirname(out_md) or "."
    files = [table.write_csv(rows, root, os.path.join(out_dir, "runs.csv"))]
    mult, png, ref_choices, series = sections.multiplier_section(pts, dev, dev_t, sets, out_dir)
    parts = [f"# Report: {os.path.basename(os.path.normpath(root))}", ""]
    tuned = any(c["what"].startswith(("joint", "scalex")) for c in choices)
    parts += first_screen(rows, pts, dev_t, v, v_untuned, multiplier_line(series, sets), sets, tuned) + [""]
    for k, c in v.items():
        parts += claim_section(k, c, sets)
    parts += sections.choices_section(choices + ref_choices) + mult
    parts += sections.control_section(pts, dev, sets) + sections.dtype_section(pts, dev, sets)
    parts += ["# Untuned: every recipe at its configured settings, compute-matched", ""]
    for split in sets:
        t, _ = answer_table(pts, dev, split, v_untuned["c"])
        parts += [t, ""] if t else []
    for k, c in v_untuned.items():
        parts += claim_section(k, c, sets, "untuned")
    lines, best, _ = main_points(pts, dev_t, sets[0])
    files += [f for f in (plots.main(lines, best, sets, os.path.join(out_dir, "report.png")),
                          plots.curves(lines, sets, os.path.join(out_dir, "report-curves.png")), png) if f]
    in_order = lambda e: (ORDER.index(e) if e in ORDER else len(ORDER), e)
    for exp in sorted({e for p in pts for e in p["experiments"]}, key=in_order):
        ep = [p for p in pts if exp in p["experiments"]]
        png = plots.experiment(exp, ep, dev, sets, os.path.join(out_dir, f"report-{exp}.png"))
        files += [png] if png else []
        parts += [f"## Experiment: {exp}", "", experiment_table(ep, dev, sets), ""]
        parts += [f"![{exp}](report-{exp}.png)", ""] if png else []
    parts += ["## Definitions", "", sections.definitions(sets), ""]
    text = "\n".join(parts)
    atomic_write(out_md, lambda f: f.write(text), mode="w")
    return text, out_md, files


def answer_block(text, prefix=""):
    """The answer block of a report's text, its figure paths under prefix (README.md carries it
    with prefix results/<scale>/)."""
    if BEGIN not in text or END not in text:
        raise ConfigError(f"report: no answer block ({BEGIN} ... {END}); build the report again")
    return text[text.index(BEGIN):text.index(END) + len(END)].replace("](report", f"]({prefix}report")


def sync_readme(path, block, prefix):
    """Replace the answer block of a Markdown file (the README) with a report's."""
    with open(path, encoding="utf-8") as f:
        md = f.read()
    old = answer_block(md)
    if not block.startswith(BEGIN):
        block = answer_block(block)
    atomic_write(path, lambda f: f.write(md.replace(old, answer_block(block, prefix))), mode="w")
