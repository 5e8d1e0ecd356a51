"""
The run table: every finished run below a folder as one flat row, and rows of equal settings
grouped into points. claims.py and report.py read nothing else.

A row's columns are of two kinds:
- settings, which define the run: every key of the run's config (config.json) except the ones
  in NOT_SETTINGS, dicts flattened ("budget.en"), plus the tokenizer and the data's content hash;
- results: bits per byte per split and language ("val.zh", "test.zh", "ood.zh", their ".se"),
  extra text sets ("extra.NAME"), downstream accuracy ("acc.TASK"), and what the run cost
  ("steps", "tokens", "tokens.LANG", "flops", "epochs.LANG", "wall_s").
Runs whose settings are equal are one point (the seed varies inside it). Two runs of equal
settings must have made equal plans (plan_sha256): if they did not, the code that planned them
differs, and the table refuses to mix them rather than average two different experiments.
"""
import csv
import json
import os

from scalex.configurator import ConfigError
from scalex.files import read_json
from scalex.rundir import check_summary

# Config keys that do not change what a run computes (where it writes, how it logs) or that
# come from the others (stages: the recipe's; data_dir: a path, replaced by the data's hash).
NOT_SETTINGS = ("run_name", "out_dir", "data_dir", "stages", "device", "compile", "kernels", "seed",
                "experiment", "scale", "log_interval", "eval_interval", "ckpt_interval", "log_samples",
                "wandb_log", "wandb_project", "tensorboard")
# Columns that are neither settings nor results: where a row came from.
META = ("seed", "experiment", "dir", "plan_sha", "commit", "dirty", "code_sha",
        "runs", "seeds", "experiments", "picked")
# The files whose code trains and scores a run: runs of one point should share them.
METHOD_FILES = ("train.py", "model.py", "data.py", "kernels.py", "eval.py")
SPLITS = ("val", "test", "ood")  # a summary's "<split>_bpb" fields
RESULT_FIELDS = ("steps", "tokens", "flops", "params", "wall_s", "chrf", "translator")
FIX = "the run is damaged: train it again or move its folder out of the report's root"


def is_result(key):
    return key.split(".")[0] in SPLITS + RESULT_FIELDS + ("extra", "acc", "epochs")


def settings_of(row):
    return {k: v for k, v in row.items() if k not in META and not is_result(k)}


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v
    return out


def _number(path, field, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{path}: '{field}' is {v!r}, not a number; {FIX}")
    return float(v)


def load_run(rd, root):
    """One finished run as a flat row (module docstring). A summary that disagrees with the run's
    own final metrics record was edited or comes from another run: refused, not reported."""
    spath, cpath = os.path.join(rd, "summary.json"), os.path.join(rd, "config.json")
    s = check_summary(rd, read_json(spath, FIX))  # val_bpb as the run's own final metrics record
    if not os.path.isfile(cpath):
        raise ConfigError(f"{cpath}: missing; {FIX}")
    c = read_json(cpath, FIX)
    cfg = c.get("config") if isinstance(c, dict) else None
    if not isinstance(s, dict) or not isinstance(cfg, dict) or not isinstance(s.get("val_bpb"), dict):
        raise ConfigError(f"{spath}: not the summary of a finished training run; {FIX}")
    rel = os.path.relpath(rd, root).split(os.sep)
    tok = c.get("tokenizer") or {}
    code = c.get("code") or {}
    row = {"seed": cfg.get("seed"), "dir": rd, "plan_sha": s.get("plan_sha256"),
           "commit": code.get("git_commit"), "dirty": code.get("git_dirty"),
           "code_sha": "-".join(str((code.get("files_sha256") or {}).get(f, ""))[:8] for f in METHOD_FILES),
           "experiment": cfg.get("experiment") or (rel[0] if len(rel) > 1 else "runs"),
           **_flat({k: v for k, v in cfg.items() if k not in NOT_SETTINGS}),
           "lrls": ",".join(s.get("lrls") or [l for l in cfg["budget"] if l != cfg["hrl"]
                                              and l not in (s.get("derived") or {})]),
           "tokenizer": tok.get("variant"), "tok_sha": tok.get("sha256"),
           "data": (c.get("data_manifest") or {}).get("sha256"), "world_size": s.get("world_size", 1)}
    row["dtype"] = s.get("dtype", row.get("dtype"))  # what dtype=auto resolved to, where recorded
    for split in SPLITS:
        for lang, v in (s.get(f"{split}_bpb") or {}).items():
            row[f"{split}.{lang}"] = _number(spath, f"{split}_bpb.{lang}", v)
            se = (s.get(f"{split}_bpb_se") or {}).get(lang)
            row[f"{split}.{lang}.se"] = None if se is None else _number(spath, f"{split}_bpb_se.{lang}", se)
    plan = c.get("plan") or {}
    last = (plan.get("stages") or [{}])[-1].get("epochs_end", {})
    row.update({"steps": s.get("steps"), "flops": s.get("flops"), "params": s.get("params"),
                "wall_s": s.get("wall_s"), "tokens": sum((s.get("tokens_seen") or {}).values()),
                **{f"tokens.{k}": v for k, v in (s.get("tokens_seen") or {}).items()},
                **{f"epochs.{k}": round(v, 3) for k, v in last.items() if v}})
    q = [v for v in (s.get("transform_quality") or {}).values() if v.get("chrf") is not None]
    if q:
        row.update({"chrf": min(x["chrf"] for x in q), "translator": q[0].get("backend")})
    for name, v in _read_opt(rd, "bpb_extra.json").items():
        row[f"extra.{name}"] = v.get("bpb")
    for task, v in _read_opt(rd, "downstream.json").get("tasks", {}).items():
        row[f"acc.{task}"] = v.get("acc")
    return row


def _read_opt(rd, name):
    p = os.path.join(rd, name)
    return read_json(p, FIX) if os.path.isfile(p) else {}


def load(root):
    """Every run below root (a folder with summary.json), in path order."""
    if not os.path.isdir(root):
        raise ConfigError(f"report: no folder {root}; give the folder the runs were written to "
                          f"(e.g. runs/quickstart)")
    rows = []
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        if "summary.json" in files:
            rows.append(load_run(dirpath, root))
    if not rows:
        raise ConfigError(f"report: no finished run (summary.json) below {root}")
    return rows


def points(rows):
    """Rows of equal settings -> points: the settings, the runs by seed, the experiments that ran
    them. A seed found twice (the same run in two experiments) counts once."""
    groups = {}
    for r in rows:
        key = json.dumps(settings_of(r), sort_keys=True, default=str)
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in sorted(groups.items()):
        plans = {r["plan_sha"] for r in rs if r["plan_sha"]}
        if len(plans) > 1:
            raise ConfigError(f"{rs[0]['dir']} and another run have equal settings but different plans "
                              f"(plan_sha256): they were planned by different code; train both again")
        runs = {}
        for r in rs:
            runs.setdefault(r["seed"], r)
        out.append({**settings_of(rs[0]), "runs": runs, "seeds": sorted(runs, key=str),
                    "experiments": sorted({r["experiment"] for r in rs})})
    return out


def label(p, among):
    """A point's name: its method plus the settings in which it differs from the others."""
    keys = sorted({k for q in among for k in settings_of(q)} - {"method", "lrls", "tok_sha", "data"})
    diff = [k for k in keys if len({json.dumps(q.get(k), default=str) for q in among}) > 1]
    return ", ".join([p["method"]] + [f"{k} {p.get(k)}" for k in diff if p.get(k) is not None])


def mean(p, col):
    """The mean of a result column over the point's seeds (None if any seed lacks it)."""
    vals = [r.get(col) for r in p["runs"].values()]
    return None if not vals or None in vals else sum(vals) / len(vals)


def std(p, col):
    vals = [r.get(col) for r in p["runs"].values()]
    if len(vals) < 2 or None in vals:
        return None
    m = sum(vals) / len(vals)
    return (sum((x - m) ** 2 for x in vals) / (len(vals) - 1)) ** 0.5


def write_csv(rows, root, path):
    """The table as CSV, one row per run (its folder relative to root), settings then results:
    for pandas and the like."""
    rows = [dict(r, dir=os.path.relpath(r["dir"], root)) for r in rows]
    cols = list(META[:7]) + sorted({k for r in rows for k in settings_of(r)})
    cols += sorted({k for r in rows for k in r if is_result(k)})
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: (r["experiment"], r["dir"])))
    return path
