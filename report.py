"""
The report: every finished run below a folder, grouped into experiment points, as a Markdown
table and a plot of low-resource bits-per-byte against the high-resource budget.

    python eval.py report runs/quickstart                  table (report.md) + plot (report.png)

Runs with the same method and budget but other seeds are averaged, and their spread is shown:
a gap smaller than it is noise.
"""
import json
import math
import os

from configurator import ConfigError, atomic_write, read_json


def load_summaries(root):
    """summary.json of every finished run below root."""
    out = []
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        if "summary.json" in files:
            fix = f"move {dirpath} out of {root}, or run it again (train.py ... --overwrite)"
            s = read_json(os.path.join(dirpath, "summary.json"), fix)
            s["seed"] = read_json(os.path.join(dirpath, "config.json"), fix)["config"]["seed"]
            s["dir"] = dirpath
            out.append(s)
    return out


def _mean_std(xs):
    m = sum(xs) / len(xs)
    return m, (math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else None)


def group_runs(summaries):
    """{(method, hrl tokens): row} with the LRL/HRL bits-per-byte averaged over seeds."""
    groups = {}
    for s in summaries:
        key = (s["method"], s["budget"][s["hrl"]])
        groups.setdefault(key, []).append(s)
    rows = []
    for (method, hrl_tokens), runs in sorted(groups.items()):
        s0 = runs[0]
        lrl_bpb = _mean_std([r["val_bpb"][s0["lrl"]] for r in runs])
        hrl_bpb = _mean_std([r["val_bpb"][s0["hrl"]] for r in runs])
        rows.append({"method": method, "hrl": s0["hrl"], "lrl": s0["lrl"], "hrl_budget": hrl_tokens, "derived": s0.get("derived", {}),
                     "lrl_budget": s0["budget"][s0["lrl"]], "trained": {k: v for k, v in s0["tokens_seen"].items()},
                     "steps": s0["steps"], "seeds": len(runs), "lrl_bpb": lrl_bpb, "hrl_bpb": hrl_bpb})
    return rows


def _fmt(ms):
    m, s = ms
    return f"{m:.4f}" if s is None else f"{m:.4f} ± {s:.4f}"


def report(root, out_md=None, out_png=None):
    summaries = load_summaries(root)
    if not summaries:
        raise ConfigError(f"report: no finished run (summary.json) below {root}")
    rows = group_runs(summaries)
    h, l = rows[0]["hrl"], rows[0]["lrl"]
    any_derived = any(r["derived"] for r in rows)
    lines = [f"| method | {h} budget (HRL) | {l} budget (LRL) | tokens trained {h} / {l} | "
             + ("synthetic streams trained | " if any_derived else "") + f"steps | seeds | **{l} val bpb** | {h} val bpb |",
             "|---|---:|---:|---:|" + ("---|" if any_derived else "") + "---:|---:|---:|---:|"]
    for r in rows:
        synth = "; ".join(f"{k} ({v}): {r['trained'][k]:,}" for k, v in r["derived"].items() if r["trained"].get(k)) or "none"
        lines.append(f"| {r['method']} | {r['hrl_budget']:,} | {r['lrl_budget']:,} | {r['trained'].get(h, 0):,} / "
                     f"{r['trained'].get(l, 0):,} | " + (f"{synth} | " if any_derived else "")
                     + f"{r['steps']:,} | {r['seeds']} | **{_fmt(r['lrl_bpb'])}** | {_fmt(r['hrl_bpb'])} |")
    best = {}
    for r in rows:
        if r["hrl_budget"] not in best or r["lrl_bpb"][0] < best[r["hrl_budget"]][1]:
            best[r["hrl_budget"]] = (r["method"], r["lrl_bpb"][0])
    lines.append("")
    lines.append(f"bpb: bits per UTF-8 byte on held-out text (lower is better); ± is the std over seeds. "
                 f"Lowest {l} bpb per {h} budget: " + "; ".join(f"{b:,}: {m}" for b, (m, _) in sorted(best.items())) + ".")
    table = "\n".join(lines)
    out_md = out_md or os.path.join(root, "report.md")
    atomic_write(out_md, lambda f: f.write(f"# Report: {root}\n\n{table}\n"), mode="w")
    out_png = out_png or os.path.join(root, "report.png")
    _plot(rows, out_png)
    return table, out_md, out_png


def _plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for method in sorted({r["method"] for r in rows}):
        rs = sorted((r for r in rows if r["method"] == method), key=lambda r: r["hrl_budget"])
        xs, ys = [r["hrl_budget"] for r in rs], [r["lrl_bpb"][0] for r in rs]
        err = [r["lrl_bpb"][1] or 0 for r in rs]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=method)
    ax.set_xscale("log")
    ax.set_xlabel(f"{rows[0]['hrl']} (high-resource) tokens")
    ax.set_ylabel(f"{rows[0]['lrl']} (low-resource) val bits/byte")
    ax.set_title("Cross-lingual data scaling")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path + ".tmp.png")
    plt.close(fig)
    os.replace(path + ".tmp.png", path)
