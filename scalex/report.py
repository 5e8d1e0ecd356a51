"""
The report: every finished run below a folder, grouped into experiment points, one Markdown
table and plot per experiment, a scaling-law fit per method, and the paper's claims, each with
a verdict computed from the numbers (claims.py).

    python eval.py report runs/mini          ROOT/report.md, ROOT/report.png, ROOT/report-curves.png,
                                             ROOT/report-<experiment>.png
    python eval.py plot runs/mini/scalex/scalex-en2000000-s1        RUN/plot.png (loss and LR curves)

Every number is bits per UTF-8 byte (bpb) on held-out text, not loss per token: bpb does not
depend on the tokenizer, so runs with a joint and a disjoint vocabulary compare directly.
Noise is measured, not assumed: every verdict is a paired test over the seeds two rows share,
Holm-corrected over the comparisons of its claim, with p-values printed (claims.py).
"""
import hashlib
import json
import math
import os

from scalex import claims
from scalex.configurator import ConfigError, atomic_write, read_json
from scalex.rundir import check_summary

# A method keeps its colour in every report (tab10/tab20 colours); an unknown name gets one by
# a stable hash of the name, so it too is the same everywhere.
PALETTE = {"lrl_only": "#000000", "lrl_only_epochs": "#7f7f7f", "mix": "#1f77b4", "joint": "#1f77b4",
           "scalex": "#d62728", "scalex_cosine": "#ff9896", "scalex_wsd": "#8c564b", "translate": "#2ca02c",
           "codeswitch": "#98df8a", "seq_hrl_lrl": "#ff7f0e", "seq_lrl_hrl": "#ffbb78",
           "mix_scalex_schedule": "#9467bd", "scalex_frac": "#17becf", "prop10": "#aec7e8",
           "prop25": "#c5b0d5", "prop50": "#e377c2"}
_FALLBACK = ["#bcbd22", "#dbdb8d", "#9edae5", "#c49c94", "#f7b6d2", "#c7c7c7", "#393b79", "#637939"]


def color(method):
    return PALETTE.get(method) or _FALLBACK[int(hashlib.sha256(method.encode()).hexdigest(), 16) % len(_FALLBACK)]


# --- loading -------------------------------------------------------------------------------
# A damaged run file is one line naming it (configurator.read_json) and this fix.
_FIX = "the run is damaged: train it again or move its folder out of the report's root"


def plan_sha256(plan):
    """train.run_record's plan hash, for runs whose summary predates plan_sha256."""
    stages = [{k: st.get(k) for k in ("name", "lr", "steps", "seqs", "lr_from", "lr_to")} for st in plan["stages"]]
    canon = {"stages": stages, "block_size": plan.get("block_size"), "seqs_per_step": plan.get("seqs_per_step")}
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def load_run(dirpath, root):
    """One finished run as a flat record. Fields a summary lacks (older runs) come from the
    run's config.json, else a default; the experiment is the folder below root."""
    spath = os.path.join(dirpath, "summary.json")
    s = check_summary(dirpath, read_json(spath, _FIX))
    for field, kind in (("method", str), ("hrl", str), ("budget", dict), ("val_bpb", dict)):
        if not isinstance(s.get(field), kind):
            raise ConfigError(f"{spath}: no valid field '{field}'; the run is not a finished training run: train it again")
    if s["hrl"] not in s["budget"]:
        raise ConfigError(f"{spath}: budget has no entry for the hrl '{s['hrl']}'; the summary is damaged: train the run again")
    c = read_json(os.path.join(dirpath, "config.json"), _FIX) if os.path.isfile(os.path.join(dirpath, "config.json")) else {}
    cfg, plan = c.get("config", {}), c.get("plan")
    listed = s.get("lrls") or s.get("lrl") or cfg.get("lrl") or []
    listed = [listed] if isinstance(listed, str) else list(listed)
    # the run's real low-resource languages: a synthetic stream (translated or code-switched
    # HRL text, summary "derived") is training data, not a language the claims are about
    lrls = listed + [l for l in s["budget"] if l != s["hrl"] and l not in listed and l not in (s.get("derived") or {})]
    rel = os.path.relpath(dirpath, root).split(os.sep)
    tok = s.get("tokenizer") or c.get("tokenizer") or {}
    read = lambda name: read_json(os.path.join(dirpath, name), _FIX) if os.path.isfile(os.path.join(dirpath, name)) else {}
    # older runs called the joint baseline "mix"; one name keeps one run from counting twice
    method = "joint" if s["method"] == "mix" else s["method"]
    return {"dir": dirpath, "method": method, "hrl": s["hrl"], "lrls": lrls, "budget": s["budget"],
            "experiment": s.get("experiment") or cfg.get("experiment") or (rel[0] if len(rel) > 1 else os.path.basename(os.path.abspath(root))),
            "seed": s.get("seed", cfg.get("seed")), "data_dir": s.get("data_dir") or cfg.get("data_dir"),
            "tok_variant": tok.get("variant"), "tok_sha": tok.get("sha256"),
            "plan_sha": s.get("plan_sha256") or (plan_sha256(plan) if plan else None),
            "world_size": s.get("world_size") or (plan or {}).get("world_size", 1),
            "model": s.get("model") or cfg.get("model"), "params": s.get("params"),
            "val_bpb": s["val_bpb"], "val_bpb_se": s.get("val_bpb_se") or {}, "steps": s.get("steps"),
            "tokens_seen": s.get("tokens_seen") or {}, "val_tokens": s.get("val_tokens"), "derived": s.get("derived") or {},
            "ood_bpb": s.get("ood_bpb") or {}, "ood_bpb_se": s.get("ood_bpb_se") or {}, "compute_key": s.get("compute_key"),
            "lrl_epochs": s.get("lrl_epochs") if s.get("lrl_epochs") is not None else (s.get("m3") or {}).get("k"),
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
                    "ood": {l: _mean_std([r["ood_bpb"][l] for r in runs_]) for l in [r0["hrl"]] + r0["lrls"]
                            if all(l in r.get("ood_bpb", {}) for r in runs_)},
                    "derived": r0["derived"], "transform": r0["transform"]})
        row["lrl_budget"] = r0["budget"].get(row["lrl"])
        row["steps"] = _agreed(runs_, "steps", "steps", flags)
        row["tokens"] = _agreed(runs_, "tokens_seen", "tokens trained", flags)
        row["compute"] = _agreed(runs_, "compute_key", "compute (tokens, steps, FLOPs)", flags)
        row["lrl_epochs"] = _agreed(runs_, "lrl_epochs", "LRL epochs", flags)
        _agreed(runs_, "val_tokens", "validation tokens", flags)
        rows.append(row)
    for r in rows:  # rows of one method and size in one experiment: name what tells them apart
        sib = [x for x in rows if (x["experiment"], x["method"], x["hrl_budget"]) == (r["experiment"], r["method"], r["hrl_budget"])]
        diff = [k for k in KEY if len({json.dumps(x[k], sort_keys=True) for x in sib}) > 1]
        diff = [k for k in diff if not (k == "data_dir" and "tok_sha" in diff)]  # a new tokenizer needs its own data dir
        r["tag"] = ", ".join(f"tokenizer {r['tok_variant']}" if k == "tok_sha" else f"{k} {str(r[k])[:16]}" for k in diff)
        r["label"] = r["method"] + (f" ({r['tag']})" if r["tag"] else "")
    return rows


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
    ood = [l for l in r0["lrls"] if any(l in r["ood"] for r in rows)]  # out-of-domain text, beside val
    head = (["method"] + [f"{l} budget" for l in langs] + ["tokens trained", "steps", "seeds"]
            + [f"**{l} val bpb**" for l in r0["lrls"]] + [f"{l} OOD bpb" for l in ood]
            + [f"{r0['lrl']} eval SE", f"{r0['hrl']} val bpb"]
            + [f"{k} bpb" for k in extra] + ["notes"])
    body = []
    for r in sorted(rows, key=lambda r: (r["method"], r["hrl_budget"], r["label"])):
        tokens = "varies" if r["tokens"] is None else " / ".join(f"{l} {claims.fmt_tokens(n)}" for l, n in r["tokens"].items() if n)
        synth = [f"{k} is {v}" for k, v in r["derived"].items() if (r["tokens"] or {}).get(k)]
        ex = []
        for k in extra:
            got = [x["bpb_extra"][k] for x in r["runs"] if k in x["bpb_extra"]]
            se = f" (SE {got[0]['se']:.4f})" if len(got) == 1 and got[0].get("se") is not None else ""  # one seed: the set's own error
            ex.append(_pm(_mean_std([g["bpb"] for g in got])) + se if got and len(got) == r["seeds"] else "")
        body.append([r["label"]] + [f"{r['budget'].get(l, 0):,}" for l in langs]
                    + [tokens, "varies" if r["steps"] is None else f"{r['steps']:,}", r["seeds"]]
                    + [f"**{_pm(r['bpb'][l])}**" if l in r["bpb"] else "" for l in r0["lrls"]]
                    + [_pm(r["ood"][l]) if l in r["ood"] else "" for l in ood]
                    + [f"{r['se'][r['lrl']]:.4f}" if r["lrl"] in r["se"] else "", _pm(r["bpb"][r["hrl"]]) if r["hrl"] in r["bpb"] else ""]
                    + ex + ["; ".join(synth + r["flags"])])
    return _table(head, body)


def fits_table(rows, n_boot):
    body = []
    for m in sorted({r["label"] for r in rows}):
        c = sorted((r for r in rows if r["label"] == m), key=lambda r: r["hrl_budget"])
        if len({r["hrl_budget"] for r in c}) != len(c) or len(c) < 2:
            continue  # one size only, or points no key field tells apart: no single curve
        f = claims.fit_scaling(claims.points(c, c[0]["lrl"]), n_boot)
        if f["status"] != "fitted":
            body.append([m, len(c), f["status"], "", "", "", "", ""])
            continue
        ci = f"[{f['ci'][0]:.3f}, {f['ci'][1]:.3f}]" if f["ci"] else "n/a"
        body.append([m, len(c), f"{f['alpha']:.3f}", ci, f"{f['E']:.4f}", f"{f['drop']:.4f}",
                     "n/a" if f["gof_p"] is None else f"{f['gof_p']:.2g}", f["shape"]])
    head = ["method", "HRL sizes", "alpha", "alpha bootstrap 95% (not used for verdicts)", "E (bpb)", "fitted drop",
            "lack-of-fit p", "shape"]
    return _table(head, body) if body else ""


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
        "- Comparison: a paired t-test over the seeds both rows share (the same seeds train every method), "
        "shown as mean difference ± its standard error, raw p and Holm p. Holm corrects the p-values of the "
        f"comparisons one claim makes (family-wise error {claims.ALPHA:g}). 'supported' / 'not supported' need "
        f"{claims.SEEDS_MIN}+ common seeds and Holm p < {claims.ALPHA:g}; fewer seeds: '{claims.few('N')}'; "
        f"else '{claims.NOISE} (p=...)'. Verdicts read val bpb; OOD (a Chinese text from another source) is "
        "tested beside it and marked where it disagrees.",
        f"- Fit: L(D) = E + A·D^-alpha of the LRL bpb against HRL tokens D (scipy curve_fit, E, A >= 0, "
        f"0 <= alpha <= {claims.ALPHA_MAX:g}), only with {claims.SIZES_MIN}+ sizes (3 parameters pass through 3 points). "
        f"A lack-of-fit F-test (means' residuals vs pooled seed variance) below p={claims.GOF_P:g} rejects the law; "
        f"alpha at {claims.ALPHA_MAX:g} is '{claims.STEP}', at or below {claims.ALPHA_MIN:g} flat. Claim (b) also needs the "
        f"largest size significantly below the smallest. alpha's interval ({n_boot} bootstrap resamples, RNG seed "
        f"{claims.RNG_SEED}) is shown only: it under-covers at these sizes.",
        f"- Claim (a) needs a translator of chrF >= {claims.CHRF_MIN:g}; below it: '{claims.UNTESTABLE}'.",
        f"- Compute matching: same model, params, data and tokenizer, and total tokens (and FLOPs where both are "
        f"recorded) within {claims.MATCH:.0%}; otherwise the part is '{claims.NOTRUN} (no compute-matched ...)'. The best "
        "LRL-only is the lrl_only / lrl_only_epochs row of lowest LRL bpb: not compute-matched by design.",
    ])


def report(root, out_md=None, n_boot=claims.BOOTSTRAP):
    """Write ROOT/report.md and the plots; return (Markdown text, md path, png paths)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ConfigError(f"--bootstrap={n_boot!r}: must be a whole number of resamples >= 0 (default {claims.BOOTSTRAP})")
    runs = load_runs(root)
    if not runs:
        raise ConfigError(f"report: no finished run (summary.json) below {root}")
    rows = group_runs(runs)
    out_md = out_md or os.path.join(root, "report.md")
    out_dir = os.path.dirname(out_md)
    parts, pngs = [f"# Report: {root}", ""], []
    cl = [f(rows, n_boot) for f in claims.CLAIMS]
    verdict = lambda c: f"**{c['verdict']}**" + "".join(f"; {k}: {v}" for k, v in c.get("parts", {}).items())
    parts += ["## Claims", "", _table(["claim", "numbers", "verdict"], [[c["claim"], c["numbers"], verdict(c)] for c in cl]), ""]
    main = [r for m in sorted({r["method"] for r in rows}) for r in claims.curve(rows, (m,))]
    if main:
        pngs.append(plot_rows(main, rows, os.path.join(out_dir, "report.png"), "main curves (ablations left out)"))
        parts += ["![main curves](report.png)", ""]
    lc = plot_curves(rows, os.path.join(out_dir, "report-curves.png"))
    if lc:
        pngs.append(lc)
        parts += ["Learning curves (the method: stage 1 HRL only, then the mix):", "", "![learning curves](report-curves.png)", ""]
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
        lo = [r for r in claims.curve(all_rows, ("lrl_only",)) if r["lrl_budget"] == r0["lrl_budget"]]
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
        best = claims.best_lrl_only(claims.unique(all_rows), r0) if lang == r0["lrl"] else None
        if best:  # the best any LRL-only run reaches: a level, not a curve over HRL tokens
            ax.axhline(claims.bpb(best), color=color("lrl_only_epochs"), ls="--", lw=1,
                       label=f"best LRL-only ({claims.fmt_epochs(best)})")
        ax.set(xscale="log", xlabel=f"{r0['hrl']} (high-resource) tokens",
               ylabel=f"{lang} val bits/byte" + (" (what the HRL side pays)" if lang == r0["hrl"] else ""))
        ax.grid(alpha=0.3)
    handles = {l: h for ax in axes[0] for h, l in zip(*ax.get_legend_handles_labels())}
    fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=8)  # outside: never covers data
    fig.suptitle(f"{title}: mean ± seed std")
    return _save(fig, path)


def _curve_of(row, lang):
    """(tokens seen, val bpb) averaged over the row's seeds, from each run's metrics.jsonl;
    tokens from the record's tokens_seen, else step x the plan's tokens_per_step. Also the
    first run's plan (for the stage boundary)."""
    at, plan = {}, None
    for x in row["runs"]:
        mpath, cpath = os.path.join(x["dir"], "metrics.jsonl"), os.path.join(x["dir"], "config.json")
        if not os.path.isfile(mpath):
            continue
        p = read_json(cpath, _FIX).get("plan") if os.path.isfile(cpath) else None
        plan = plan or p
        for r in _read_metrics(mpath):
            if lang not in (r.get("val_bpb") or {}):
                continue
            t = sum(r["tokens_seen"].values()) if isinstance(r.get("tokens_seen"), dict) else (
                r["step"] * p["tokens_per_step"] if p and "tokens_per_step" in p else None)
            if t is not None:
                at.setdefault(t, []).append(r["val_bpb"][lang])
    return sorted((t, sum(v) / len(v)) for t, v in at.items()), plan


def plot_curves(rows, path):
    """ROOT/report-curves.png: LRL val bpb against tokens seen for scalex, joint and lrl_only at
    the largest HRL size that has all three, mean over seeds; scalex's stage boundary marked.
    None when no such size or no metrics log."""
    rows = claims.unique(rows)
    for sx in reversed(claims.curve(rows, ("scalex",))):
        trio = [sx, claims.partner(rows, sx, claims.MIX), claims.partner(rows, sx, ("lrl_only",))]
        if all(trio):
            break
    else:
        return None
    lang, plt = sx["lrl"], _plt()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110, layout="constrained")
    drawn = False
    for r in trio:
        pts, plan = _curve_of(r, lang)
        if pts:
            ax.plot(*zip(*pts), "o-", ms=3, color=color(r["method"]), label=f"{r['label']} ({r['seeds']} seeds)")
            drawn = True
        if r is sx and plan and len(plan.get("stages", [])) > 1 and "tokens_per_step" in plan:
            ax.axvline(plan["stages"][1]["start_step"] * plan["tokens_per_step"], color="grey", ls=":", lw=1,
                       label=f"scalex stage 2 ({plan['stages'][1].get('name', '')}) starts")
    if not drawn:
        plt.close(fig)
        return None
    ax.set(xlabel="tokens seen (all languages)", ylabel=f"{lang} val bits/byte")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"learning curves at {claims.fmt_tokens(sx['hrl_budget'])} {sx['hrl']} tokens: mean over seeds")
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
