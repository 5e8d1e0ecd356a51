"""
What a run directory holds, and the rules that keep it auditable: the code version and
environment a run records, the lock that keeps two processes out of one run, the checks a
resumed run must pass (same config unless --allow names the change, same data), and
checksummed checkpoints written atomically by a background thread.

train.py uses it; eval.py loads checkpoints through it.
"""
import contextlib
import glob
import hashlib
import json
import math
import os
import subprocess
import sys
import threading
import time

from scalex.configurator import ConfigError
from scalex.files import atomic_write, lock, read_json, sha256_file
from scalex.schema import Dict, Num

# What `--resume --allow=k1,k2` may change: settings that leave the plan (steps, data order,
# model, optimizer state) as it is. The change is recorded in config.json ("resumes").
RESUME_ALLOWED = ("lr_max", "lr_min", "warmup_steps", "grad_clip", "eval_interval", "eval_tokens", "ckpt_interval",
                  "log_interval", "kernels", "compile", "device", "dtype", "log_samples", "wandb_log", "wandb_project", "tensorboard")

# ----------------------------------------------------------------------------- run directory
def code_version():
    """The code a run was trained with: the git commit, and a hash of every source file (the
    top-level scripts and this package), which still tells two versions apart without git."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    git = lambda *a: subprocess.run(["git", *a], cwd=here, capture_output=True, text=True).stdout.strip()
    files = {f: sha256_file(os.path.join(here, f)) for f in sorted(os.listdir(here)) if f.endswith(".py")}
    pkg = os.path.join(here, "scalex")
    files.update({f"scalex/{f}": sha256_file(os.path.join(pkg, f)) for f in sorted(os.listdir(pkg)) if f.endswith(".py")})
    return {"git_commit": git("rev-parse", "HEAD") or None, "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "files_sha256": files}


def _differences(old, new, defaults):
    """{key: (old, new)} between two resolved configs; a key an older run did not have counts
    as unchanged while it holds its default."""
    new = json.loads(json.dumps(new))
    return {k: (old.get(k, defaults.get(k)), new.get(k)) for k in sorted(set(old) | set(new))
            if old.get(k, defaults.get(k)) != new.get(k)}


def _allowed(flags):
    allow = flags["allow"]
    if allow is False:
        return set()
    keys = {k.strip() for k in str(allow).split(",") if k.strip()} if allow is not True else set()
    if not flags["resume"] or not keys:
        raise ConfigError("--allow: give --resume --allow=KEY[,KEY] (keys a resumed run may change: "
                          f"{', '.join(RESUME_ALLOWED)})")
    bad = sorted(keys - set(RESUME_ALLOWED) - {"code"})
    if bad:
        raise ConfigError(f"--allow: {bad[0]} cannot change in a resumed run (it changes the plan, data or model); "
                          f"allowed: code (the source changed), {', '.join(RESUME_ALLOWED)}. Start a new run instead")
    return keys


def check_tracking(cfg):
    """Tracking is optional: its package is needed only when it is switched on."""
    import importlib.util
    for key, mod, pkg in (("wandb_log", "wandb", "wandb"), ("tensorboard", "tensorboard", "tensorboard")):
        if cfg[key] and importlib.util.find_spec(mod) is None:
            raise ConfigError(f"{key}: the {pkg} package is not installed; `.venv/bin/python -m pip install {pkg}`, or set {key}=False")


def tracker(cfg, rd):
    """A function that mirrors each metrics.jsonl record to W&B and/or TensorBoard (nested
    dicts flattened to train_loss/en), or None when both are off. Imported only when on.
    Its .finish() ends the W&B run and closes the TensorBoard writer."""
    sinks, closers = [], []
    if cfg["wandb_log"]:
        import hashlib

        import wandb
        run_id = hashlib.sha1(os.path.abspath(rd).encode()).hexdigest()[:16]  # a resumed run continues its W&B run
        wandb.init(project=cfg["wandb_project"], name=cfg["run_name"], id=run_id, resume="allow", config=cfg, dir=rd)
        sinks.append(lambda rec, step: wandb.log(rec, step=step))
        closers.append(wandb.finish)  # an unfinished W&B run's offline log ends in an error
    if cfg["tensorboard"]:
        from torch.utils.tensorboard import SummaryWriter
        tb = SummaryWriter(os.path.join(rd, "tensorboard"))
        sinks.append(lambda rec, step: ([tb.add_scalar(k, v, step) for k, v in rec.items()], tb.flush()))
        closers.append(tb.close)
    if not sinks:
        return None

    def flat(rec, prefix=""):
        out = {}
        for k, v in rec.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}/"))
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step":
                out[prefix + k] = v
        return out
    def track(rec):
        for sink in sinks:
            sink(flat(rec), rec["step"])
    track.finish = lambda: [close() for close in closers]
    return track


def environment(rd):
    """What else a run's numbers depend on: Python, CUDA, every installed package's version,
    the OS and CPU architecture (not the host), and the working directory that relative paths
    (data_dir) are relative to, as a path relative to the run dir (no absolute path is kept)."""
    import importlib.metadata
    import platform

    import torch
    return {"python": platform.python_version(), "cuda": torch.version.cuda, "cwd": os.path.relpath(os.getcwd(), rd),
            "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
            "platform": f"{platform.system()} {platform.machine()}",
            "packages": dict(sorted((d.metadata["Name"], d.version) for d in importlib.metadata.distributions() if d.metadata["Name"]))}


def _lock_path(cfg):
    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    return os.path.join(os.path.dirname(rd), f".{os.path.basename(rd)}.lock")


def prepare_run_dir(cfg, flags, manifest, defaults, master=True):
    """-> 'new' | 'resume' | 'done'. Never deletes what a user made: --overwrite moves it aside.
    Rank 0 locks the run dir for as long as it trains (a second process gets one line), checks
    a resumed run against its config.json (settings, data) and moves; the others follow."""
    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    allowed = _allowed(flags)
    if not master:
        if flags["resume"] and os.path.isfile(os.path.join(rd, "summary.json")):
            return "done"
        return "resume" if flags["resume"] and os.path.isfile(os.path.join(rd, "ckpt.pt")) else "new"
    lock(_lock_path(cfg), f"run_name: {rd}", "wait for it to finish, or pick another run_name")
    # temp files of writes a kill interrupted (JSON records, checkpoints); we hold the lock
    for pattern in ("*.json*.tmp[0-9]*", "ckpt.pt.tmp*"):
        for leftover in glob.glob(os.path.join(glob.escape(rd), pattern)):
            os.remove(leftover)
    if not os.path.exists(rd):
        return "new"
    if flags["resume"]:
        saved = os.path.join(rd, "config.json")
        fix = f"move {rd} aside and start again (--overwrite)"
        if os.path.isfile(saved):
            rec = read_json(saved, fix)
            if not isinstance(rec, dict) or not isinstance(rec.get("config"), dict):
                raise ConfigError(f"{saved}: not a run record (no 'config'); {fix}")
            diff = _differences(rec["config"], cfg, defaults)
            done = os.path.isfile(os.path.join(rd, "summary.json"))
            for k, (was, now) in diff.items():
                if done or k not in allowed:
                    hint = (f"; or continue it with --allow={k} (recorded in config.json)" if k in RESUME_ALLOWED and not done
                            else "" if not done else "; it is finished, so nothing can change: use another run_name")
                    raise ConfigError(f"{k}: {rd} {'ran' if done else 'started'} with {k}={was!r}, not {now!r}; a resumed run keeps "
                                      f"its config (or use --overwrite){hint}")
            started = rec.get("data_manifest", {}).get("sha256")
            # older runs recorded the manifest file's hash, newer ones its content's (data.load_manifest)
            if started and manifest is not None and started not in (manifest["sha256"], manifest.get("file_sha256")):
                raise ConfigError(f"data_dir: {cfg['data_dir']} changed since {rd} started (manifest sha256 {manifest['sha256'][:12]}, "
                                  f"the run's {started[:12]}); resume needs the same data: prepare into another data_dir, or --overwrite")
            if done:
                return "done"
            code = _code_changes(rec, rd, allowed)
            if (diff or code) and os.path.isfile(os.path.join(rd, "ckpt.pt")):
                rec["config"] = json.loads(json.dumps(cfg))
                entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "argv": sys.argv,
                         "changed": {k: {"from": a, "to": b} for k, (a, b) in diff.items()}}
                if code:
                    entry["code_from"], rec["code"] = rec["code"], code_version()
                rec.setdefault("resumes", []).append(entry)
                atomic_write(saved, lambda f: json.dump(rec, f, indent=1), mode="w")
                print(f"resuming with changed settings (recorded in {saved}): " + ", ".join(
                    [f"{k} {a!r} -> {b!r}" for k, (a, b) in diff.items()] + ([f"code ({', '.join(code)})"] if code else [])))
        elif os.path.isfile(os.path.join(rd, "summary.json")):
            return "done"
        if os.path.isfile(os.path.join(rd, "metrics.jsonl")):
            _check_metrics(os.path.join(rd, "metrics.jsonl"), fix)
        return "resume" if os.path.isfile(os.path.join(rd, "ckpt.pt")) else "new"
    if flags["overwrite"]:
        aside = f"{rd}.old-{time.strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while os.path.exists(aside):  # a second --overwrite in the same second keeps both old ones
            aside, n = f"{rd}.old-{time.strftime('%Y%m%d-%H%M%S')}-{n}", n + 1
        os.rename(rd, aside)
        print(f"moved the existing {rd} to {aside}")
        return "new"
    raise ConfigError(f"run_name: {rd} exists; pass --resume to continue it, or --overwrite to start again (the old one is kept aside)")


def _code_changes(rec, rd, allowed):
    """Source files that differ from those the run started with (config.json's code), as a
    sorted list; refused unless --allow=code, since a resumed run would mix two versions."""
    was = (rec.get("code") or {}).get("files_sha256")
    if not isinstance(was, dict):
        return []
    now = code_version()["files_sha256"]
    changed = sorted(f for f in set(was) | set(now) if was.get(f) != now.get(f))
    if changed and "code" not in allowed:
        shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
        raise ConfigError(f"code: {shown} changed since {rd} started; a resumed run would mix two versions of the code: "
                          f"restore them, or pass --resume --allow=code (recorded in config.json), or --overwrite")
    return changed


def check_checkpoint(ck, cfg, plan, flags, defaults):
    """A checkpoint to resume from must be this run's: its config equal to the run's (apart from
    keys --allow names or config.json's resumes record) and its step inside the plan. Catches
    another run's ckpt.pt copied in, and a changed setting when config.json is missing."""
    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    path, fix = os.path.join(rd, "ckpt.pt"), "move it away, or start the run again with --overwrite (the old one is kept aside)"
    if not isinstance(ck.get("config"), dict):
        raise ConfigError(f"checkpoint: {path} records no config; {fix}")
    tolerated = set(_allowed(flags))
    saved = os.path.join(rd, "config.json")
    if os.path.isfile(saved):
        rec = read_json(saved, fix)
        for r in (rec.get("resumes") or []) if isinstance(rec, dict) else []:
            tolerated |= set((r.get("changed") or {}) if isinstance(r, dict) else {})
    for k, (was, now) in _differences(ck["config"], cfg, defaults).items():
        if k not in tolerated:
            hint = f"; or continue with --resume --allow={k}" if k in RESUME_ALLOWED else ""
            raise ConfigError(f"{k}: {path} was trained with {k}={was!r}, not {now!r}: another run's checkpoint or a changed "
                              f"setting; {fix}{hint}")
    step = ck.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= plan["total_steps"]:
        raise ConfigError(f"checkpoint: {path} is at step {step!r}, outside this run's plan of {plan['total_steps']} steps; {fix}")


def _check_metrics(path, fix):
    """metrics.jsonl of a run to resume: every line a JSON object. A last line torn by a kill
    (no newline after it) lies after the checkpoint, so it is dropped and written again."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for i, ln in enumerate(lines[:-1]):
        try:
            ok = not ln.strip() or isinstance(json.loads(ln), dict)
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"{path}: line {i + 1} is not a JSON object (truncated or edited); {fix}")
    if lines[-1].strip():
        atomic_write(path, lambda f: f.write(b"\n".join(lines[:-1]) + b"\n" if len(lines) > 1 else b""))


def check_summary(rd, summary):
    """A finished run's summary.json as the report reads it: val_bpb (and test_bpb, ood_bpb where
    present) is {language: number}, and the same as the run's final evaluation record in
    metrics.jsonl (at the summary's step), where there is one: a summary edited by hand would put
    a number the run never measured in the report."""
    spath, fix = os.path.join(rd, "summary.json"), "restore it, or train the run again"
    if not isinstance(summary, dict):
        raise ConfigError(f"{spath}: not a run summary (a JSON object); {fix}")
    if summary.get("dtype", "float32") not in ("float32", "bfloat16"):  # older summaries have none
        raise ConfigError(f"{spath}: dtype is {summary['dtype']!r}, not float32 or bfloat16; {fix}")
    final = {}
    if os.path.isfile(os.path.join(rd, "metrics.jsonl")):
        with open(os.path.join(rd, "metrics.jsonl"), encoding="utf-8", errors="replace") as f:
            for line in f:
                with contextlib.suppress(ValueError):
                    rec = json.loads(line)
                    ok = isinstance(rec, dict) and rec.get("step") == summary.get("steps") and isinstance(rec.get("val_bpb"), dict)
                    final = rec if ok else final
    for key in ("val_bpb", "test_bpb", "ood_bpb"):
        if key == "val_bpb" or key in summary:
            Dict(Num(), "a dict {language: bits per byte}").check(f"{spath}: {key}", summary.get(key))
        rec = final.get(key) if isinstance(final.get(key), dict) else {}
        for lang, v in (summary.get(key) or {}).items():
            m = rec.get(lang, v)
            if not (isinstance(m, (int, float)) and math.isclose(m, v, rel_tol=1e-9, abs_tol=1e-12)):
                raise ConfigError(f"{spath}: {key}.{lang} is {v!r}, but the run's final metrics record "
                                  f"(metrics.jsonl, step {summary.get('steps')}) says {m!r}; {fix}")
    return summary


# ----------------------------------------------------------------------------- checkpoints
# A checkpoint is torch.save's file followed by CKPT_MAGIC and the sha256 (hex) of everything
# before it: a flipped byte or a torn file is caught on load. (torch.load ignores the tail.)
# The checksum is the file's own, so it guards against accidents, not against a crafted file;
# what makes a foreign file safe to open is that it loads with weights_only=True: tensors and
# plain values (dict, list, str, numbers) only, never an object whose unpickling runs code.
CKPT_MAGIC = b"\nscalex-sha256:"
_CKPT_TAIL = len(CKPT_MAGIC) + 64


class _HashingFile:
    """What torch.save needs of a file (write, flush), hashing every byte on its way."""

    def __init__(self, f):
        self.f, self.sha = f, hashlib.sha256()

    def write(self, b):
        self.sha.update(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()


def save_checkpoint(path, state):
    import torch

    def write(f):
        hf = _HashingFile(f)
        torch.save(state, hf)
        f.write(CKPT_MAGIC + hf.sha.hexdigest().encode())
    atomic_write(path, write)


def load_checkpoint(path, map_location="cpu"):
    """The checkpoint's state, after checking its checksum; a bad file is a ConfigError."""
    import torch
    fix = "move it away and start the run again with --overwrite (the old run is kept aside)"
    try:
        size = os.path.getsize(path)
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            left = size - _CKPT_TAIL
            while left > 0:
                b = f.read(min(left, 1 << 24))
                sha.update(b)
                left -= len(b)
            tail = f.read()
    except OSError as e:
        raise ConfigError(f"checkpoint: cannot read {path} ({e.strerror}); {fix}")
    if size < _CKPT_TAIL or not tail.startswith(CKPT_MAGIC):
        raise ConfigError(f"checkpoint: {path} is empty, truncated or not a scalex checkpoint (no checksum at its end); {fix}")
    if tail[len(CKPT_MAGIC):] != sha.hexdigest().encode():
        raise ConfigError(f"checkpoint: {path} is damaged (its sha256 does not match its contents); {fix}")
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to unpickle is a bad file
        import pickle
        if isinstance(e, pickle.UnpicklingError):
            raise ConfigError(f"checkpoint: {path} holds objects other than tensors and plain values; refused, as loading "
                              f"them could run code: use checkpoints train.py wrote") from None
        raise ConfigError(f"checkpoint: {path} does not load ({type(e).__name__}); {fix}") from None
    if not isinstance(ck, dict) or not {"model", "config", "step"} <= set(ck):
        raise ConfigError(f"checkpoint: {path} is not a scalex checkpoint (no model, config and step); {fix}")
    return ck


def _snapshot(obj):
    """A private CPU copy of a (nested) state, so training goes on while it is written. From a
    GPU the copies go to pinned memory without blocking; the writer waits on an event."""
    import torch
    if isinstance(obj, torch.Tensor):
        if obj.is_cuda:
            return torch.empty(obj.shape, dtype=obj.dtype, pin_memory=True).copy_(obj, non_blocking=True)
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_snapshot(v) for v in obj)
    return obj


class CheckpointWriter:
    """Checkpoints written by a background thread: the training step pays for a memory copy
    of the state, not for serialising, hashing and fsync-ing it (BENCHMARKS.md: the cost).
    At most one write is in flight; each is atomic (a temp file, then a rename)."""

    def __init__(self):
        self.thread, self.error = None, None

    def save(self, path, state):
        import torch
        self.wait()
        snap = _snapshot(state)
        event = None
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            event = torch.cuda.Event()
            event.record()
        self.thread = threading.Thread(target=self._write, args=(path, snap, event), name="ckpt-writer")
        self.thread.start()

    def _write(self, path, snap, event):
        try:
            if event is not None:
                event.synchronize()
            save_checkpoint(path, snap)
        except BaseException as e:  # noqa: BLE001 - re-raised by wait() on the training thread
            self.error = e

    def wait(self):
        """Block until the last checkpoint is on disk; re-raise what stopped its write."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            err, self.error = self.error, None
            raise err


# ----------------------------------------------------------------------------- run records
def run_record(cfg, plan, manifest, flops_per_token):
    """What a run records beside its results so the report can group and match it:
    plan_sha256 (same hash = same token schedule), compute_key (equal keys = compute-matched),
    FLOPs, the M3 coordinates (arXiv 2410.12325) and, for multi-stage plans, stage 2's size."""
    tokens = {lang: sum(st["tokens"].get(lang, 0) for st in plan["stages"]) for lang in cfg["budget"]}
    total, lrl = sum(tokens.values()), cfg["lrl"]
    last = plan["stages"][-1]["tokens"]
    canon = {"block_size": plan["block_size"], "seqs_per_step": plan["seqs_per_step"],
             "stages": [{k: st[k] for k in ("name", "lr", "steps", "seqs", "lr_from", "lr_to")} for st in plan["stages"]]}
    flops = flops_per_token * total if flops_per_token else None
    rec = {"scale": cfg["scale"], "experiment": cfg["experiment"], "seed": cfg["seed"], "data_dir": cfg["data_dir"],
           "tokenizer": {k: manifest["tokenizer"].get(k) for k in ("variant", "sha256")} if manifest else None,
           "world_size": plan["world_size"], "model": cfg["model"],
           "plan_sha256": hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest(),
           "flops": flops, "compute_key": {"tokens": total, "steps": plan["total_steps"], "flops": flops},
           "m3": {"k": tokens.get(lrl, 0) / cfg["budget"][lrl] if lrl in cfg["budget"] else 0.0,
                  "r": tokens.get(lrl, 0) / total, "r_f": last.get(lrl, 0) / sum(last.values())}}
    if len(plan["stages"]) > 1:  # stage 2 = every stage after the first (ScaleX: the mixture under decay)
        s2 = total - sum(plan["stages"][0]["tokens"].values())
        rec["stage2"] = {"fraction": s2 / total, "tokens": s2}
    if manifest:
        rec["transform_quality"] = {
            lang: {"backend": (manifest["languages"][lang].get("source") or {}).get("backend", "dict"),
                   "chrf": q.get("chrf"), "translated_share": q.get("words_translated"),
                   "target_script_share": q.get("target_script_share")}
            for lang in cfg["budget"] if tokens.get(lang) and (q := manifest["languages"].get(lang, {}).get("transform"))}
    return rec


def flops_per_token(cfg, manifest=None):
    """Training FLOPs per token of the run's model (model.flops_per_token), built on torch's
    meta device (no memory, no init cost), with the vocabulary train() will use: the data's
    when prepared, else the config's vocab_size. None when neither is known."""
    vocab = max(manifest["tokenizer"]["n_vocab"] if manifest else 0, cfg["vocab_size"])
    if not vocab:
        return None
    import torch

    from model import build_model
    with torch.device("meta"):
        m = build_model(cfg["model"], 64 * math.ceil(vocab / 64), cfg["block_size"], **cfg["model_args"])
    return m.flops_per_token(cfg["block_size"])


def format_cost(cfg, plan, manifest=None):
    """One line: tokens, steps, FLOPs and what makes the run compute-matched to others."""
    fpt = flops_per_token(cfg, manifest)
    rec = run_record(cfg, plan, manifest, fpt)
    return (f"cost: {rec['compute_key']['tokens']:,} tokens, {plan['total_steps']:,} steps, "
            + (f"{rec['flops']:.3e} FLOPs ({fpt:,} per token, model {cfg['model']})" if fpt else "FLOPs unknown (set vocab_size)")
            + f"; M3 k={rec['m3']['k']:.2f} r={rec['m3']['r']:.3f} r_f={rec['m3']['r_f']:.3f}; plan {rec['plan_sha256'][:12]}")


def format_plan(cfg, plan, manifest=None):
    langs = list(cfg["budget"])
    w = {lang: (max(14, len(lang) + 9), max(11, len(lang) + 9)) for lang in langs}  # column widths
    lines = [f"plan for run '{cfg['run_name']}' (method {cfg['method']}): {len(plan['stages'])} stages, "
             f"{plan['total_steps']:,} steps of {plan['seqs_per_step']} sequences x {plan['block_size']} = "
             f"{plan['tokens_per_step']:,} tokens (world size {plan['world_size']}), warmup {cfg['warmup_steps']} steps"]
    head = f"{'stage':<14}{'lr shape':<10}{'steps':>8}{'lr start':>10}{'lr end':>10}" + "".join(
        f"{lang + ' tokens':>{w[lang][0]}}{lang + ' epochs':>{w[lang][1]}}" for lang in langs)
    lines += [head, "-" * len(head)]
    for i, st in enumerate(plan["stages"]):
        lines.append(f"{str(i + 1) + ' ' + st['name']:<14}{st['lr']:<10}{st['steps']:>8,}"
                     f"{st['lr_from']:>10.2e}{st['lr_to']:>10.2e}" + "".join(
                         f"{st['tokens'].get(lang, 0):>{w[lang][0]},}{st['epochs_end'][lang]:>{w[lang][1]}.2f}" for lang in langs))
    tot = {lang: sum(st["tokens"].get(lang, 0) for st in plan["stages"]) for lang in langs}
    lines.append(f"{'total':<14}{'':<10}{plan['total_steps']:>8,}{'':>20}" + "".join(
        f"{tot[lang]:>{w[lang][0]},}{plan['stages'][-1]['epochs_end'][lang]:>{w[lang][1]}.2f}" for lang in langs))
    lines.append("lr start/end: the stage's shape before warmup; epochs: cumulative passes over each "
                 "language's budget at the end of the stage")
    prepared = (f", of {manifest['languages'][lang]['train']['tokens']:,} prepared" if manifest and lang in manifest["languages"] else "" for lang in langs)
    lines.append("budget: " + "; ".join(f"{lang} {cfg['budget'][lang]:,} tokens{p}" for lang, p in zip(langs, prepared)))
    return "\n".join(lines)


def start_records(rd, mode, start, cfg, plan, manifest, raw, dev):
    """Open a run's records: a new run writes config.json (what it needs to be audited: the
    resolved config, plan, code version, data manifest hash, tokenizer, environment) and an
    empty metrics.jsonl; a resumed one drops the metrics logged after its checkpoint (those
    steps run again). Prints the plan. -> write(rec): one metrics.jsonl line, mirrored to
    W&B / TensorBoard when the config turns them on."""
    import torch
    os.makedirs(rd, exist_ok=True)
    metrics_path = os.path.join(rd, "metrics.jsonl")
    if mode == "new":
        rec = {"config": cfg, "plan": plan, "code": code_version(), "argv": sys.argv,
               "data_manifest": {"path": os.path.join(cfg["data_dir"], "manifest.json"), "sha256": manifest["sha256"]},
               "tokenizer": {k: manifest["tokenizer"][k] for k in ("variant", "n_vocab", "vocab_size", "sample_bytes_per_language", "sha256")},
               "torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if dev.startswith("cuda") else "cpu",
               "params": raw.num_params(), "vocab_size": manifest["tokenizer"]["n_vocab"],
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **environment(rd)}
        atomic_write(os.path.join(rd, "config.json"), lambda f: json.dump(rec, f, indent=1), mode="w")
        open(metrics_path, "w").close()
    else:
        with open(metrics_path) as f:
            keep = [ln for ln in f if json.loads(ln).get("step", 0) <= start]
        atomic_write(metrics_path, lambda f: f.writelines(keep), mode="w")
    print(format_plan(cfg, plan, manifest))
    print(f"model {cfg['model']}: {raw.num_params() / 1e6:.2f}M non-embedding parameters, vocab "
          f"{manifest['tokenizer']['n_vocab']}, device {dev}")
    log, track = open(metrics_path, "a"), tracker(cfg, rd)

    def write(rec):
        log.write(json.dumps(rec) + "\n")
        log.flush()
        track and track(rec)

    def finish():
        log.close()
        track and track.finish()
    write.finish = finish
    return write


def write_summary(rd, cfg, plan, manifest, raw, held_out, tokens_seen, wall, flops_per_token, dtype):
    """summary.json: a finished run's results (per-language val bpb and its standard error, the
    same on the test split and on out-of-domain text where the data has them) and its run
    record; the report reads nothing else of a run but its metrics. dtype (what dtype=auto
    resolved to) and the CPU threads are recorded because the numbers depend on them: a run at
    1 thread and one at 2 differ in the last bits of each gradient, which training amplifies."""
    import torch
    ev = held_out["val"]
    more = {f"{split}_{k}": {lang: r[k] for lang, r in held_out[split].items()}
            for split in ("test", "ood") if held_out.get(split) for k in ("bpb", "bpb_se", "tokens")}
    summary = {"run_name": cfg["run_name"], "method": cfg["method"], "hrl": cfg["hrl"], "lrl": cfg["lrl"],
               "budget": cfg["budget"], "val_loss": {k: v["loss"] for k, v in ev.items()},
               "val_bpb": {k: v["bpb"] for k, v in ev.items()}, "val_tokens": {k: v["tokens"] for k, v in ev.items()},
               "tokens_seen": tokens_seen, "steps": plan["total_steps"], "params": raw.num_params(), "wall_s": round(wall, 1),
               "derived": {lang: manifest["languages"][lang]["derived"] for lang in cfg["budget"] if "derived" in manifest["languages"][lang]},
               "val_bpb_se": {k: v["bpb_se"] for k, v in ev.items()}, "params_total": raw.num_params(exclude_embedding=False),
               **more, "dtype": dtype, "threads": torch.get_num_threads(),
               **run_record(cfg, plan, manifest, flops_per_token)}
    atomic_write(os.path.join(rd, "summary.json"), lambda f: json.dump(summary, f, indent=1), mode="w")
    print(f"done: {rd} in {wall:.0f}s; val bpb " + ", ".join(f"{k} {v['bpb']:.4f}" for k, v in ev.items())
          + "".join(f"; {split} bpb {k} {v['bpb']:.4f}" for split in ("test", "ood")
                    for k, v in (held_out.get(split) or {}).items()))
    return summary
