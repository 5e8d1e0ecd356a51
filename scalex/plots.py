"""
The report's figures (report.py) and one run's curves (`eval.py plot RUN`). matplotlib only;
a method keeps its colour in every figure.

    report.png           the answer: LRL bpb against HRL tokens per judged set, best LRL-only level
    report-curves.png    learning curves at the largest HRL size, ScaleX's stage boundary marked
    report-EXP.png       one experiment: against HRL tokens, or against LRL epochs for a sweep of them
    RUN/plot.png         one run: train and val loss per language, and the learning rate
"""
import json
import os

from scalex import table
from scalex.claims import epochs, fmt_tokens, hrl_size, lrl
from scalex.configurator import ConfigError
from scalex.files import atomic_write, read_json

# Colour-blind-safe, and far apart: the methods a reader compares never look alike.
COLORS = {"scalex": "#d62728", "joint": "#1f77b4", "lrl_only": "#000000", "lrl_only_epochs": "#7f7f7f",
          "translate": "#2ca02c", "codeswitch": "#8fd18f", "scalex_cosine": "#ff7f0e",
          "scalex_wsd": "#8c564b", "scalex_fixed": "#e377c2", "scalex_frac": "#17becf",
          "scalex_s2short": "#bcbd22", "scalex_s2long": "#9467bd", "seq_hrl_lrl": "#ff7f0e",
          "seq_lrl_hrl": "#8c564b", "mix_scalex_schedule": "#9467bd", "prop10": "#17becf",
          "prop25": "#bcbd22", "prop50": "#e377c2"}
STYLES = ["-", "--", ":", "-."]
_FIX = table.FIX


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    atomic_write(path, lambda f: fig.savefig(f, format="png", metadata={"Software": None}))
    _plt().close(fig)
    return path


def _log_x(ax, xs):
    """A log axis labelled at the points themselves (no crowded minor labels)."""
    from matplotlib.ticker import NullFormatter
    xs = sorted(set(xs))
    ax.set_xscale("log")
    ax.set_xticks(xs, [fmt_tokens(x) for x in xs])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _ylim(ax, values):
    """The y-range of the compared lines: an overfitting baseline may leave it (it is named)."""
    lo, hi = min(values), max(values)
    pad = 0.15 * (hi - lo) + 0.02
    ax.set_ylim(lo - pad, hi + pad)


def main(lines, best, sets, path):
    """lines [(name, {size: point})]: one panel per judged set; best LRL-only as a level."""
    if not lines:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets) + 2, 3.8), dpi=110,
                             layout="constrained", squeeze=False)
    for ax, split in zip(axes[0], sets):
        l = lrl(next(iter(lines[0][1].values())))
        col, ys = f"{split}.{l}", []
        for n, c in lines:
            pts = [(s, table.mean(p, col), table.std(p, col) or 0) for s, p in sorted(c.items())
                   if table.mean(p, col) is not None]
            if pts:
                xs, y, e = zip(*pts)
                gaps = len(xs) < len({s for _, c2 in lines for s in c2})  # not run at every size: dotted
                ax.errorbar(xs, y, yerr=e, marker="o", capsize=3, color=COLORS.get(n.split()[0], "#444"),
                            ls=":" if gaps else "-", label=n + (" (not every size)" if gaps else ""))
                ys += [] if n.startswith("lrl_only") else list(y)
        if best and table.mean(best, col) is not None:
            ax.axhline(table.mean(best, col), color=COLORS["lrl_only_epochs"], ls="--", lw=1,
                       label=f"best LRL-only ({epochs(best)}, picked on val)")
            ys.append(table.mean(best, col))
        _log_x(ax, [s for _, c in lines for s in c])
        _ylim(ax, ys or [0, 1])
        ax.set(xlabel=f"{lines[0][1][min(lines[0][1])]['hrl']} (high-resource) tokens",
               ylabel=f"{l} bits/byte, {split}")
        ax.grid(alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside right upper", fontsize=8)
    fig.suptitle("mean ± seed std; the y-range is the bilingual methods' (LRL-only may leave it)",
                 fontsize=9)
    return _save(fig, path)


def _curve(p, split, l):
    """(tokens seen, bpb) from each seed's metrics.jsonl, averaged where every seed has it."""
    at = {}
    for r in p["runs"].values():
        for rec in read_metrics(os.path.join(r["dir"], "metrics.jsonl")):
            v = (rec.get(f"{split}_bpb") or {}).get(l)
            if v is not None and isinstance(rec.get("tokens_seen"), dict):
                at.setdefault(sum(rec["tokens_seen"].values()), []).append(v)
    return sorted((t, sum(v) / len(v)) for t, v in at.items() if len(v) == len(p["runs"]))


def curves(lines, sets, path):
    """Learning curves at the largest size every answer line has, ScaleX's stage 2 marked."""
    common = set.intersection(*[set(c) for _, c in lines]) if lines else set()
    if not common:
        return None
    size, plt = max(common), _plt()
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets) + 2, 3.8), dpi=110,
                             layout="constrained", squeeze=False)
    for ax, split in zip(axes[0], sets):
        ys = []
        for n, c in lines:
            p = c[size]
            pts = _curve(p, split, lrl(p))
            if pts:
                ax.plot(*zip(*pts), "o-", ms=3, color=COLORS.get(n.split()[0], "#444"), label=n)
                ys += [] if n.startswith("lrl_only") else [y for _, y in pts]
            if p["method"] == "scalex":
                cfg = read_json(os.path.join(next(iter(p["runs"].values()))["dir"], "config.json"), _FIX)
                plan = cfg.get("plan") or {}
                if len(plan.get("stages", [])) > 1:
                    ax.axvline(plan["stages"][1]["start_step"] * plan["tokens_per_step"], color="grey",
                               ls=":", lw=1, label="scalex stage 2 starts")
        from matplotlib.ticker import FuncFormatter
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt_tokens(x) if x > 0 else "0"))
        ax.set(xlabel="tokens seen (all languages)", ylabel=f"{split} bits/byte")
        _ylim(ax, ys or [0, 1])
        ax.grid(alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside right upper", fontsize=8)
    fig.suptitle(f"learning curves at {fmt_tokens(size)} HRL tokens, mean over seeds; the y-range is "
                 f"the bilingual methods'", fontsize=9)
    return _save(fig, path)


def experiment(exp, pts, dev, sets, path):
    """One experiment: LRL bpb against HRL tokens per line; against LRL epochs when the
    experiment holds the HRL size fixed or trains no HRL (an epoch sweep)."""
    from scalex.claims import name
    l = lrl(pts[0])
    by_epochs = len({hrl_size(p) for p in pts}) == 1 or all(p["method"].startswith("lrl_only") for p in pts)
    x = (lambda p: table.mean(p, f"epochs.{l}")) if by_epochs else hrl_size
    groups = {}
    for p in pts:  # a line: the method and its deviations, less the one on the x-axis
        key = (p["method"],) + tuple((k, v) for k, v in dev[id(p)].items()
                                     if not (by_epochs and k == "lrl_epochs"))
        groups.setdefault(key, []).append(p)
    sets = [s for s in sets if any(table.mean(p, f"{s}.{l}") is not None for p in pts)]  # no empty panel
    if not sets:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets) + 2, 3.6), dpi=110,
                             layout="constrained", squeeze=False)
    drawn = False
    for ax, split in zip(axes[0], sets):
        col = f"{split}.{l}"
        for i, (key, g) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
            g = sorted((p for p in g if table.mean(p, col) is not None and x(p)), key=x)
            if g:
                ax.errorbar([x(p) for p in g], [table.mean(p, col) for p in g],
                            yerr=[table.std(p, col) or 0 for p in g], marker="o", capsize=3,
                            color=COLORS.get(key[0], "#444"), ls=STYLES[i % 4] if len(key) > 1 else "-",
                            label=", ".join([key[0]] + [f"{k} {v}" for k, v in key[1:]]))
                drawn = True
        if by_epochs:
            from matplotlib.ticker import FuncFormatter
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
            ax.set(xlabel=f"{l} epochs (passes over its budget)")
        else:
            _log_x(ax, [hrl_size(p) for p in pts])
            ax.set(xlabel="HRL tokens")
        ax.set(ylabel=f"{l} bits/byte, {split}")
        ax.grid(alpha=0.3)
    if not drawn:
        plt.close(fig)
        return None
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside right upper", fontsize=8)
    fig.suptitle(f"{exp}: mean ± seed std", fontsize=9)
    return _save(fig, path)


def read_metrics(path):
    """A run's log records, checked: a cut-off or foreign line is one clear error."""
    out = []
    if not os.path.isfile(path):
        return out
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            try:
                r = json.loads(line)
                ok = isinstance(r, dict) and isinstance(r.get("step"), int) and all(
                    isinstance(r.get(k, {}), dict) for k in ("train_loss", "val_loss"))
                ok = ok and ("train_loss" not in r or isinstance(r.get("lr"), (int, float)))
            except ValueError:
                ok = False
            if not ok:
                raise ConfigError(f"{path}: line {i} is not a metrics record (a write cut off?); delete "
                                  f"that line and plot again (the checkpoint and summary are not affected)")
            out.append(r)
    return out


def plot_run(rd):
    """RUN/plot.png: per-language train and val loss, and the LR, against tokens seen; stage
    boundaries marked (from the plan in config.json)."""
    for f in ("config.json", "metrics.jsonl"):
        if not os.path.isfile(os.path.join(rd, f)):
            raise ConfigError(f"plot: no {os.path.join(rd, f)}; give a run folder train.py wrote "
                              f"(e.g. runs/quickstart/scalex/scalex-en800000-s1337)")
    plan = read_json(os.path.join(rd, "config.json"), _FIX).get("plan")
    if not plan or "tokens_per_step" not in plan:
        raise ConfigError(f"plot: {os.path.join(rd, 'config.json')} has no plan; train the run again")
    recs = read_metrics(os.path.join(rd, "metrics.jsonl"))
    train, evals = [r for r in recs if "train_loss" in r], [r for r in recs if "val_loss" in r]
    if not train:
        raise ConfigError(f"plot: {os.path.join(rd, 'metrics.jsonl')} has no training record yet; "
                          f"plot after the first log_interval")
    tps, plt = plan["tokens_per_step"], _plt()
    fig, (ax, axl) = plt.subplots(2, 1, figsize=(8, 6), dpi=110, sharex=True, layout="constrained",
                                  height_ratios=[3, 1])
    langs = {k for r in train for k in r["train_loss"]} | {k for r in evals for k in r["val_loss"]}
    for lang in sorted(langs):
        pts = [(r["step"] * tps, r["train_loss"][lang]) for r in train if lang in r["train_loss"]]
        line = ax.plot(*zip(*pts), lw=1, label=f"{lang} train")[0] if pts else None
        ev = [(r["step"] * tps, r["val_loss"][lang]) for r in evals if lang in r["val_loss"]]
        if ev:
            colour = {"color": line.get_color()} if line else {}
            ax.plot(*zip(*ev), "o--", ms=4, label=f"{lang} val", **colour)
    axl.plot([r["step"] * tps for r in train], [r["lr"] for r in train], color="k", lw=1)
    for a in (ax, axl):
        a.grid(alpha=0.3)
        for st in plan["stages"][1:]:
            a.axvline(st["start_step"] * tps, color="grey", ls=":", lw=1)
    for st in plan["stages"]:
        ax.annotate(st["name"], (st["start_step"] * tps, 1), xycoords=("data", "axes fraction"),
                    va="top", fontsize=8)
    ax.set(ylabel="loss (nats/token)")
    axl.set(ylabel="learning rate", xlabel="tokens seen (all languages)")
    fig.legend(loc="outside right upper", fontsize=8)
    fig.suptitle(os.path.basename(os.path.normpath(rd)))
    return _save(fig, os.path.join(rd, "plot.png"))
