"""
Train one run of a language plan.

    python train.py config/quickstart/scalex.py [--key=value ...] [--dry_run] [--resume] [--overwrite]
    python train.py CONFIG --resume --allow=lr_max,lr_min   continue with changed settings (recorded)
    torchrun --nproc_per_node=8 train.py CONFIG ...          (DDP: the same plan and global batch)
    python train.py --help                                   every key, its default and its meaning

A run's plan is an ordered list of stages; each gives per-language token counts (or a total
and proportions) and its learning-rate shape. ScaleX is two stages: high-resource only at a
constant LR, then a high+low-resource mixture under cosine decay. `--dry_run` prints the plan
and exits. Everything a run did lands in runs/<run_name>/: config.json (resolved config, plan,
code version, data manifest hash, Python/CUDA/package versions), metrics.jsonl, summary.json,
ckpt.pt. A run directory is locked while a process trains it.
"""
import contextlib
import hashlib
import json
import math
import os
import sys
import time

import numpy as np

import data
from scalex.configurator import ConfigError, atomic_write, fail, help_text, load_config, parse_args, progress, unlock
from scalex.tokenizer import load_tokenizer
from scalex.rundir import (CheckpointWriter, _lock_path, check_tracking, code_version, environment, load_checkpoint,
                    prepare_run_dir, tracker)

# -----------------------------------------------------------------------------
# defaults (a config file overrides them; --key=value overrides both; unknown keys are errors)
run_name = ""             # default: the config's path below config/, e.g. quickstart/scalex
scale = "quickstart"      # the size family (config/<scale>/): recorded in summary.json for the report
experiment = ""           # the experiment family the run belongs to (sweep.py sets it), e.g. scalex, ablate-lr
out_dir = "runs"
method = ""               # label in reports; default: the config file's name
data_dir = "data/quickstart"
hrl, lrl = "en", "zh"     # which language the report treats as high- and low-resource
budget = {"en": 2_000_000, "zh": 500_000}  # train tokens each language may use: a prefix of its shard
stages = [{"name": "joint", "lr": "cosine", "tokens": {"en": 2_000_000, "zh": 500_000}}]
# ScaleX-like recipes (config/methods/scalex*.py) read these two: stage 2's LRL share, and its
# length in tokens (0: as long as it takes to read the LRL budget once at that share).
stage2_lrl_share = 0.5
stage2_tokens = 0
# model
model = "tiny"            # a preset of model.PRESETS
model_args = {}           # overrides of the preset, e.g. {"n_layer": 4}
vocab_size = 0            # 0: the data's tokenizer decides; else at least its vocabulary
block_size = 128
# optimizer and schedule
batch_size = 16           # sequences per micro-batch per process
grad_accum = 1            # micro-batches per optimizer step
lr_max = 3e-3
lr_min = 3e-4             # the floor cosine and linear decays end at
warmup_steps = 20         # linear warmup at the start of the run
weight_decay = 0.1
betas = [0.9, 0.95]
grad_clip = 1.0
# system
device = "auto"           # auto: cuda when present, else cpu
dtype = "auto"            # auto: bfloat16 autocast on cuda, float32 on cpu
compile = False
kernels = "auto"          # auto | torch | triton: see kernels.py
seed = 1337
# logging, evaluation, checkpoints
log_interval = 10
eval_interval = 0         # steps between per-language validations; 0: only at the end
eval_tokens = 100_000     # validation tokens per language (at most the val shard)
ckpt_interval = 200
log_samples = False       # write every sequence each process read to samples_rank<R>.jsonl
wandb_log = False         # also log metrics to Weights & Biases (needs `pip install wandb`)
wandb_project = "scalex"
tensorboard = False       # also log metrics as TensorBoard events in the run dir (needs tensorboard)
DEFAULTS = {k: v for k, v in globals().items() if not k.startswith("_") and k.islower()
            and isinstance(v, (int, float, str, dict, list, bool))}
FLAGS = ("dry_run", "resume", "overwrite", "allow")
# -----------------------------------------------------------------------------

LR_SHAPES = ("constant", "cosine", "linear")
# Dense bf16 peak FLOP/s per GPU for MFU, by a substring of the device name.
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12,
              "A10": 125e12, "4090": 165e12, "3090": 71e12, "V100": 125e12}
EXIT_DIVERGED = 3


# ----------------------------------------------------------------------------- config and plan
def resolve_config(path, overrides):
    cfg = load_config(path, overrides, DEFAULTS)
    stem = os.path.splitext(os.path.relpath(path, "config"))[0] if path else "run"
    cfg["run_name"] = cfg["run_name"] or (stem if not stem.startswith("..") else os.path.basename(stem))
    cfg["method"] = cfg["method"] or os.path.basename(stem)
    validate(cfg)
    return cfg


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _model_schema():
    """(preset names, {field: type name}) of model.py, read from its source: a config is
    checked before torch (which model.py imports) is loaded."""
    import ast
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.py")) as f:
        tree = ast.parse(f.read())
    presets, fields = [], {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PRESETS":
            presets = [k.value for k in node.value.keys]
        if isinstance(node, ast.ClassDef) and node.name == "ModelConfig":
            fields = {n.target.id: n.annotation.id for n in node.body if isinstance(n, ast.AnnAssign)}
    return presets, fields


def validate(cfg):
    """Every key, before torch is imported or anything is written: a wrong type or value is
    one line naming the key (a key added to the defaults is at least type-checked)."""
    for k, default in DEFAULTS.items():
        v = cfg[k]
        kind = type(default)
        ok = (isinstance(v, bool) if kind is bool else _number(v) if kind is float else
              isinstance(v, int) and not isinstance(v, bool) if kind is int else isinstance(v, kind))
        if not ok:
            want = {bool: "True or False", float: "a number", int: "an integer", str: "a string",
                    dict: "a dict", list: "a list"}[kind]
            raise ConfigError(f"{k}: must be {want}, got {v!r}")
    for k in ("batch_size", "grad_accum", "block_size", "log_interval", "ckpt_interval", "eval_tokens"):
        if not _positive_int(cfg[k]):
            raise ConfigError(f"{k}: must be a positive integer, got {cfg[k]!r}")
    for k in ("eval_interval", "warmup_steps", "vocab_size"):
        if cfg[k] < 0:
            raise ConfigError(f"{k}: must be 0 or a positive integer, got {cfg[k]!r}")
    for k in ("lr_max", "lr_min", "weight_decay", "grad_clip"):
        if cfg[k] < 0:
            raise ConfigError(f"{k}: must be a number >= 0, got {cfg[k]!r}")
    if cfg["lr_min"] > cfg["lr_max"]:
        raise ConfigError(f"lr_min: {cfg['lr_min']} is above lr_max {cfg['lr_max']}; the decays end at lr_min")
    if len(cfg["betas"]) != 2 or not all(_number(b) and 0 <= b < 1 for b in cfg["betas"]):
        raise ConfigError(f"betas: give two numbers in [0, 1), e.g. [0.9, 0.95], got {cfg['betas']!r}")
    if not 0 <= cfg["seed"] < 2 ** 63:
        raise ConfigError(f"seed: must be an integer in [0, 2**63), got {cfg['seed']!r}")
    choices = {"dtype": ("auto", "float32", "bfloat16"), "kernels": ("auto", "torch", "triton")}
    for k, allowed in choices.items():
        if cfg[k] not in allowed:
            raise ConfigError(f"{k}: unknown value {cfg[k]!r}; use one of {', '.join(allowed)}")
    dev = cfg["device"]
    if not (dev in ("auto", "cpu", "cuda") or dev.startswith("cuda:") and dev[5:].isdigit()):
        raise ConfigError(f"device: unknown device {dev!r}; use auto, cpu, cuda or cuda:N")
    for k in ("run_name", "method", "out_dir", "data_dir"):
        if not cfg[k].strip() or "\n" in cfg[k]:
            raise ConfigError(f"{k}: must be a non-empty one-line string, got {cfg[k]!r}")
    parts = cfg["run_name"].split("/")
    if cfg["run_name"].startswith("/") or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise ConfigError(f"run_name: {cfg['run_name']!r} must be a relative path below out_dir without '.', '..' or hidden parts")
    presets, fields = _model_schema()
    if cfg["model"] not in presets:
        raise ConfigError(f"model: unknown preset {cfg['model']!r}; use one of {', '.join(presets)} (and model_args to change it)")
    for k, v in cfg["model_args"].items():
        if k not in fields or k in ("vocab_size", "block_size"):
            raise ConfigError(f"model_args.{k}: unknown model setting; use {', '.join(f for f in fields if f not in ('vocab_size', 'block_size'))}")
        if fields[k] == "bool" and not isinstance(v, bool) or fields[k] == "float" and not (_number(v) and v > 0) \
                or fields[k] == "int" and not (isinstance(v, int) and not isinstance(v, bool) and v >= (0 if k == "d_ff" else 1)):
            raise ConfigError(f"model_args.{k}: must be {'True or False' if fields[k] == 'bool' else 'a positive ' + fields[k]}, got {v!r}")
    m = {**dict(zip(("n_head", "n_kv_head", "d_model"), (None, None, None))), **cfg["model_args"]}
    if m["n_head"] and m["d_model"] and m["d_model"] % m["n_head"]:
        raise ConfigError(f"model_args.d_model: {m['d_model']} is not a multiple of n_head {m['n_head']}")
    if m["n_head"] and m["n_kv_head"] and m["n_head"] % m["n_kv_head"]:
        raise ConfigError(f"model_args.n_kv_head: n_head {m['n_head']} is not a multiple of it ({m['n_kv_head']})")
    if not isinstance(cfg["budget"], dict) or not cfg["budget"]:
        raise ConfigError("budget: give a dict {language: train tokens}")
    for lang, n in cfg["budget"].items():
        if not _positive_int(n):
            raise ConfigError(f"budget.{lang}: must be a positive integer of tokens, got {n!r}")
    if not isinstance(cfg["stages"], list) or not cfg["stages"]:
        raise ConfigError("stages: give a non-empty list of stages")
    for i, st in enumerate(cfg["stages"]):
        where = f"stages[{i}]"
        if not isinstance(st, dict):
            raise ConfigError(f"{where}: must be a dict with 'lr' and 'tokens' (or 'total' and 'mix')")
        unknown = set(st) - {"name", "lr", "tokens", "total", "mix", "lr_from", "lr_to"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown stage field; use name, lr, tokens, total, mix, lr_from, lr_to")
        if "lr" not in st:
            raise ConfigError(f"{where}.lr: missing; give the stage's LR shape: {', '.join(LR_SHAPES)}")
        if st["lr"] not in LR_SHAPES:
            raise ConfigError(f"{where}.lr: unknown shape {st['lr']!r}; use one of {', '.join(LR_SHAPES)}")
        if ("tokens" in st) == ("mix" in st or "total" in st):
            raise ConfigError(f"{where}: give either tokens={{lang: n}} or total=n with mix={{lang: share}}")
        if "tokens" in st:
            parts = st["tokens"]
            if not isinstance(parts, dict) or not parts:
                raise ConfigError(f"{where}.tokens: give a dict {{language: tokens}}")
            for lang, n in parts.items():
                if not _positive_int(n):
                    raise ConfigError(f"{where}.tokens.{lang}: must be a positive integer, got {n!r}")
        else:
            if not _positive_int(st.get("total")):
                raise ConfigError(f"{where}.total: must be a positive integer of tokens, got {st.get('total')!r}")
            parts = st.get("mix")
            if not isinstance(parts, dict) or not parts:
                raise ConfigError(f"{where}.mix: give a dict {{language: share}}")
            for lang, w in parts.items():
                if not isinstance(w, (int, float)) or w <= 0:
                    raise ConfigError(f"{where}.mix.{lang}: must be a share > 0, got {w!r}")
            if abs(sum(parts.values()) - 1) > 1e-6:
                raise ConfigError(f"{where}.mix: shares sum to {sum(parts.values()):.6g}, must sum to 1")
        for lang in parts:
            if lang not in cfg["budget"]:
                raise ConfigError(f"{where}: unknown language '{lang}'; languages of this run (budget): {', '.join(cfg['budget'])}")
        for k in ("lr_from", "lr_to"):
            if k in st and not (_number(st[k]) and st[k] >= 0):
                raise ConfigError(f"{where}.{k}: must be a number >= 0, got {st[k]!r}")
    for k in ("hrl", "lrl"):  # a one-language run (a test, an ablation) needs only one of them
        if cfg[k] not in cfg["budget"] and (len(cfg["budget"]) > 1 or cfg["hrl" if k == "lrl" else "lrl"] not in cfg["budget"]):
            raise ConfigError(f"{k}: '{cfg[k]}' is not a language of this run; budget has {', '.join(cfg['budget'])}")


def check_device(cfg):
    """A device that is not there is bad input too (torch is loaded only to ask)."""
    if cfg["device"].startswith("cuda"):
        import torch
        n = torch.cuda.device_count()
        idx = int(cfg["device"][5:] or 0) if ":" in cfg["device"] else 0
        if idx >= n:
            raise ConfigError(f"device: {cfg['device']} asked, this machine has {n} CUDA device(s); use device=auto or cpu")


def build_plan(cfg, world_size=1):
    """Stages -> steps and sequences per language, LR at each end, epochs over each budget.
    batch_size x grad_accum is the global batch whatever the world size (as nanoGPT): the
    processes share it, dividing grad_accum (else batch_size) by their number, so a config
    takes the same steps on the same sequences on 1 or 8 GPUs."""
    block = cfg["block_size"]
    gb, ga = cfg["batch_size"], cfg["grad_accum"]
    if ga % world_size == 0:
        rank_batch = {"batch_size": gb, "grad_accum": ga // world_size}
    elif gb % world_size == 0:
        rank_batch = {"batch_size": gb // world_size, "grad_accum": ga}
    else:
        raise ConfigError(f"WORLD_SIZE: {world_size} processes cannot share batch_size {gb} x grad_accum {ga} evenly; "
                          f"run a number of processes that divides grad_accum or batch_size")
    seqs_per_step = gb * ga
    tokens_per_step = seqs_per_step * block
    windows = {lang: max(1, (n - 1) // block) for lang, n in cfg["budget"].items()}
    used = {lang: 0 for lang in cfg["budget"]}
    plan = {"block_size": block, "seqs_per_step": seqs_per_step, "tokens_per_step": tokens_per_step,
            "world_size": world_size, "rank_batch": rank_batch, "stages": []}
    step, lr_prev, cum = 0, cfg["lr_max"], 0
    for i, st in enumerate(cfg["stages"]):
        share = ({k: v / sum(st["tokens"].values()) for k, v in st["tokens"].items()} if "tokens" in st else st["mix"])
        total = sum(st["tokens"].values()) if "tokens" in st else st["total"]
        # stage ends are rounded on the cumulative token count, so plans with the same total
        # have the same number of steps however their stages split it (compute matching)
        cum += total
        steps = max(1, round(cum / tokens_per_step) - step)
        n = steps * seqs_per_step
        # largest remainder: integer sequence counts that sum to n and round each share fairly
        exact = {lang: n * w for lang, w in share.items()}
        seqs = {lang: int(x) for lang, x in exact.items()}
        for lang in sorted(exact, key=lambda l: -(exact[l] - seqs[l]))[: n - sum(seqs.values())]:
            seqs[lang] += 1
        lr_from = st.get("lr_from", lr_prev)
        lr_to = st.get("lr_to", lr_from if st["lr"] == "constant" else cfg["lr_min"])
        for lang, s in seqs.items():
            used[lang] += s
        plan["stages"].append({
            "name": st.get("name", f"stage{i + 1}"), "lr": st["lr"], "start_step": step, "steps": steps,
            "seqs": seqs, "tokens": {lang: s * block for lang, s in seqs.items()},
            "lr_from": lr_from, "lr_to": lr_to, "epochs_end": {lang: used[lang] / windows[lang] for lang in used}})
        step += steps
        lr_prev = lr_to
    plan["total_steps"] = step
    return plan


def lr_at(step, plan, warmup_steps=0):
    """The learning rate for optimizer step `step` (0-based): a pure function of the plan.
    Each stage runs its shape from lr_from to lr_to over its own steps; a stage's lr_from
    defaults to where the previous one ended, so the schedule is continuous (ScaleX:
    constant at lr_max, then cosine from lr_max to lr_min). Warmup scales the first steps."""
    for st in plan["stages"]:
        if step < st["start_step"] + st["steps"] or st is plan["stages"][-1]:
            break
    t = min(1.0, (step - st["start_step"]) / st["steps"])
    a, b = st["lr_from"], st["lr_to"]
    lr = {"constant": a, "linear": a + (b - a) * t, "cosine": b + (a - b) * 0.5 * (1 + math.cos(math.pi * t))}[st["lr"]]
    if step < warmup_steps:
        lr *= (step + 1) / warmup_steps
    return lr


def run_record(cfg, plan, manifest, flops_per_token):
    """What a run records beside its results so the report can group and match it (CONTRACT.md):
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


def check_data(cfg, manifest):
    n_vocab = manifest["tokenizer"]["n_vocab"]
    if cfg["vocab_size"] and cfg["vocab_size"] < n_vocab:
        raise ConfigError(f"vocab_size: {cfg['vocab_size']:,} does not cover the data's {n_vocab:,} token ids "
                          f"({manifest['tokenizer']['variant']} tokenizer); use 0 or at least {n_vocab}")
    for lang, n in cfg["budget"].items():
        if lang not in manifest["languages"]:
            raise ConfigError(f"budget.{lang}: unknown language; {cfg['data_dir']} has {', '.join(manifest['languages'])}")
        have = manifest["languages"][lang]["train"]["tokens"]
        if n > have:
            raise ConfigError(f"budget.{lang}: {n:,} tokens asked, {cfg['data_dir']} has {have:,}; lower it or prepare more (max_tokens)")
        if n < cfg["block_size"] + 1:
            raise ConfigError(f"budget.{lang}: {n:,} tokens hold no window of block_size+1={cfg['block_size'] + 1}; raise it or lower block_size")
        val = manifest["languages"][lang]["val"]["tokens"]
        if val < cfg["block_size"] + 1:
            raise ConfigError(f"block_size: {cfg['block_size']} is longer than {lang}'s validation data ({val:,} tokens in "
                              f"{cfg['data_dir']}); lower block_size, or prepare a data_dir with a larger val_tokens")


# ----------------------------------------------------------------------------- evaluation
def evaluate(model, val_streams, token_bytes, block_size, batch_size, max_tokens, device, autocast):
    """Per language: mean loss (nats/token) and bits per UTF-8 byte over non-overlapping
    windows of the first max_tokens validation tokens; every window is scored whole.
    bpb_se is the standard error of bpb as a ratio estimator over windows (sum of bits over
    sum of bytes): how much bpb would move on another val sample of the same size, the floor
    under which no difference between runs can be read."""
    import torch
    out = {}
    was_training = model.training
    model.eval()
    for lang, toks in val_streams.items():
        n = min(len(toks), max_tokens + 1)
        nw = max(1, (n - 1) // block_size)
        win_loss, win_bytes = [], []
        for b0 in range(0, nw, batch_size):
            ws = range(b0, min(nw, b0 + batch_size))
            arr = np.stack([np.asarray(toks[w * block_size: w * block_size + block_size + 1], dtype=np.int64) for w in ws])
            x, y = torch.from_numpy(arr[:, :-1]).to(device), torch.from_numpy(arr[:, 1:]).to(device)
            with torch.no_grad(), autocast:
                losses = model(x, y)
            win_loss.append(losses.double().sum(dim=1).cpu().numpy())
            win_bytes.append(token_bytes[arr[:, 1:]].sum(axis=1))
        wl, wb = np.concatenate(win_loss) / math.log(2), np.concatenate(win_bytes).astype(np.float64)
        bpb = wl.sum() / max(1.0, wb.sum())
        se = ratio_se(wl, wb) if len(wl) > 1 else 0.0
        out[lang] = {"loss": float(wl.sum() * math.log(2) / (len(wl) * block_size)), "bpb": float(bpb), "bpb_se": se,
                     "tokens": len(wl) * block_size, "bytes": int(wb.sum()), "windows": len(wl)}
    model.train(was_training)
    return out


def ratio_se(L, B):
    """Standard error of sum(L) / sum(B) over n items (windows, documents): the delta method,
    as for any ratio estimator, sqrt(n / (n - 1) * sum((L_i - R B_i)^2)) / sum(B). NaN for one."""
    n, R = len(L), L.sum() / B.sum()
    return math.sqrt(n / (n - 1) * float(((L - R * B) ** 2).sum())) / B.sum() if n > 1 and B.sum() else float("nan")


# ----------------------------------------------------------------------------- training
def train(cfg, flags, plan, manifest, mode):
    import torch
    import torch.distributed as dist

    import kernels
    from model import build_model

    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    dev = cfg["device"] if cfg["device"] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if ddp:
        dist.init_process_group("nccl" if dev.startswith("cuda") else "gloo")
        if dev.startswith("cuda"):
            dev = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(dev)
    master = rank == 0
    kernels.set_backend(cfg["kernels"])
    use_bf16 = cfg["dtype"] == "bfloat16" or (cfg["dtype"] == "auto" and dev.startswith("cuda"))
    autocast = torch.autocast(dev.split(":")[0], dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
    torch.manual_seed(cfg["seed"])

    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    d = cfg["data_dir"]
    streams = {lang: data.load_split(d, manifest, lang, "train").head(n) for lang, n in cfg["budget"].items()}
    val = {lang: data.load_split(d, manifest, lang, "val") for lang in cfg["budget"]}
    token_bytes = load_tokenizer(d).token_bytes()
    vocab = manifest["tokenizer"]["n_vocab"]
    padded_vocab = 64 * math.ceil(max(vocab, cfg["vocab_size"]) / 64)  # matmul-friendly; extra rows are never targets

    raw = build_model(cfg["model"], padded_vocab, cfg["block_size"], **cfg["model_args"]).to(dev)
    decay = [p for p in raw.parameters() if p.dim() >= 2]
    no_decay = [p for p in raw.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg["lr_max"], betas=tuple(cfg["betas"]), fused=dev.startswith("cuda"))
    sampler = data.Sampler(streams, [st["seqs"] for st in plan["stages"]], cfg["block_size"], cfg["seed"])
    start, tokens_seen, wall_prev = 0, {lang: 0 for lang in streams}, 0.0
    langs = list(streams)
    # per-language loss sums since the last log, on the device (read at log steps only), and
    # their token counts, known on the host from the picks; checkpoints carry both
    loss_sums = torch.zeros(len(langs), dtype=torch.float64, device=dev)
    loss_counts = [0] * len(langs)
    ckpt_path = os.path.join(rd, "ckpt.pt")
    if mode == "resume":
        ck = load_checkpoint(ckpt_path, map_location=dev)
        if ck["padded_vocab"] != padded_vocab:
            raise ConfigError(f"vocab_size: the checkpoint's model has {ck['padded_vocab']} ids, the data needs {padded_vocab}")
        raw.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        sampler.load_state_dict(ck["sampler"])
        start, tokens_seen, wall_prev = ck["step"], ck["tokens_seen"], ck["wall_s"]
        if "log_acc" in ck:
            loss_counts = list(ck["log_acc"]["counts"])
            if master:  # the sums of all ranks: rank 0 carries them
                loss_sums.copy_(torch.tensor(ck["log_acc"]["sums"], dtype=torch.float64))
        torch.set_rng_state(ck["rng"]["torch"])
        if master:
            print(f"resuming {rd} at step {start}")
    model = torch.compile(raw) if cfg["compile"] else raw
    if ddp:
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if dev.startswith("cuda") else None)

    metrics_path = os.path.join(rd, "metrics.jsonl")
    os.makedirs(rd, exist_ok=True)
    if master:
        if mode == "new":
            rec = {"config": cfg, "plan": plan, "code": code_version(), "argv": sys.argv,
                   "data_manifest": {"path": os.path.join(d, "manifest.json"), "sha256": manifest["sha256"]},
                   "tokenizer": {k: manifest["tokenizer"][k] for k in ("variant", "n_vocab", "vocab_size", "sample_bytes_per_language", "sha256")},
                   "torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if dev.startswith("cuda") else "cpu",
                   "params": raw.num_params(), "vocab_size": vocab, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   **environment()}
            atomic_write(os.path.join(rd, "config.json"), lambda f: json.dump(rec, f, indent=1), mode="w")
            open(metrics_path, "w").close()
        else:  # drop what was logged after the checkpoint: those steps run again
            with open(metrics_path) as f:
                keep = [ln for ln in f if json.loads(ln).get("step", 0) <= start]
            atomic_write(metrics_path, lambda f: f.writelines(keep), mode="w")
        print(format_plan(cfg, plan, manifest))
        print(f"model {cfg['model']}: {raw.num_params() / 1e6:.2f}M non-embedding parameters, vocab {vocab}, device {dev}")
    log = open(metrics_path, "a") if master else None
    samples_log = open(os.path.join(rd, f"samples_rank{rank}.jsonl"), "a") if cfg["log_samples"] else None
    peak = next((v for k, v in PEAK_FLOPS.items() if dev.startswith("cuda") and k in torch.cuda.get_device_name(dev)), None)
    flops_tok = raw.flops_per_token(cfg["block_size"])

    track = tracker(cfg, rd) if master else None  # optional W&B / TensorBoard mirrors of metrics.jsonl

    def write(rec):
        if master:
            log.write(json.dumps(rec) + "\n")
            log.flush()
            track and track(rec)

    B, A = plan["rank_batch"]["batch_size"], plan["rank_batch"]["grad_accum"]
    lang_ix = {lang: i for i, lang in enumerate(langs)}
    cuda = dev.startswith("cuda")
    t0, t_log, tokens_at_log = time.time(), time.time(), sum(tokens_seen.values())
    last_good = start
    # Nothing in a step waits for the device: losses, their per-language sums and the first
    # non-finite step stay on it until a log or checkpoint step reads them, and batches go up
    # from pinned memory without blocking, so the host prepares the next batch meanwhile.
    first_bad = torch.full((), -1, dtype=torch.int64, device=dev)  # and the loss there
    bad_loss = torch.zeros((), device=dev)
    ckpt_writer = CheckpointWriter()

    def diverged(what, at):
        bar.close()
        ckpt_writer.wait()
        print(f"error: training diverged: {what} at step {at} (stage {stage_of(at, plan)['name']}, "
              f"lr {lr_at(at, plan, cfg['warmup_steps']):.3g}); the last good checkpoint is "
              f"{ckpt_path if os.path.exists(ckpt_path) else 'none'} (step {last_good}). Lower lr_max and continue from it (--resume --allow=lr_max --lr_max=...), or check the data.",
              file=sys.stderr)
        sys.exit(EXIT_DIVERGED)

    def batch(micro):
        """Inputs, targets and each row's language id on the device: one array, one copy."""
        arr = sampler.tokens(micro)
        ids = np.array([[lang_ix[lang]] for lang, _, _ in micro], dtype=np.int64)
        t = torch.from_numpy(np.concatenate([arr, ids], axis=1))
        if cuda:
            t = t.pin_memory().to(dev, non_blocking=True)
        T = cfg["block_size"]
        return t[:, :T], t[:, 1:T + 1], t[:, T + 1]

    def validate_now(at):
        """Per-language validation, logged at step `at`."""
        ev = evaluate(raw, val, token_bytes, cfg["block_size"], B, cfg["eval_tokens"], dev, autocast)
        write({"step": at, "val_loss": {k: v["loss"] for k, v in ev.items()}, "val_bpb": {k: v["bpb"] for k, v in ev.items()}})
        return ev

    bar = progress(total=plan["total_steps"], initial=start, desc="train", unit="step", disable=not master)
    step = start
    for step in range(start, plan["total_steps"]):
        lr = lr_at(step, plan, cfg["warmup_steps"])
        for g in opt.param_groups:
            g["lr"] = lr
        picks = sampler.next_sequences(plan["seqs_per_step"])
        for lang, _, _ in picks:
            tokens_seen[lang] += cfg["block_size"]
            loss_counts[lang_ix[lang]] += cfg["block_size"]  # every rank's sequences: the global count
        mine = picks[rank::world]  # rank r reads every world-th sequence: no sequence twice
        if samples_log:
            samples_log.write(json.dumps({"step": step, "picks": mine}) + "\n")
        step_loss = torch.zeros((), device=dev)
        for k in range(A):
            x, y, lang_ids = batch(mine[k * B:(k + 1) * B])
            sync = contextlib.nullcontext() if not ddp or k == A - 1 else model.no_sync()
            with sync, autocast:
                losses = model(x, y)
            (losses.mean() / A).backward()
            step_loss += losses.detach().mean() / A
            loss_sums.index_add_(0, lang_ids, losses.detach().float().sum(dim=1).double())
        new_bad = (first_bad < 0) & ~torch.isfinite(step_loss)
        first_bad.copy_(torch.where(new_bad, step, first_bad))
        bad_loss.copy_(torch.where(new_bad, step_loss, bad_loss))
        if cfg["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        bar.update(1)
        done = step + 1
        is_log = done % cfg["log_interval"] == 0 or done == plan["total_steps"]
        is_ckpt = done % cfg["ckpt_interval"] == 0 or done == plan["total_steps"]
        if is_log or is_ckpt:  # the host reads the device: finiteness first
            if ddp:
                dist.all_reduce(step_loss)
                step_loss /= world
                dist.all_reduce(first_bad, op=dist.ReduceOp.MAX)  # every rank decides alike
            if first_bad.item() >= 0:
                diverged(f"loss is {bad_loss.item()}", first_bad.item())
        if is_log:
            sums = loss_sums.clone()
            if ddp:
                dist.all_reduce(sums)
            sums = sums.tolist()
            dt = time.time() - t_log
            tps = (sum(tokens_seen.values()) - tokens_at_log) / max(dt, 1e-9)
            rec = {"step": done, "stage": stage_of(step, plan)["name"], "lr": lr, "loss": step_loss.item(),
                   "train_loss": {lang: sums[i] / loss_counts[i] for i, lang in enumerate(langs) if loss_counts[i] > 0},
                   "tokens_seen": dict(tokens_seen), "tokens_per_s": round(tps)}
            if peak:
                rec["mfu"] = flops_tok * tps / (peak * world)
            write(rec)
            bar.set_postfix(loss=f"{rec['loss']:.3f}", lr=f"{lr:.2e}")
            loss_sums.zero_()
            loss_counts = [0] * len(langs)
            t_log, tokens_at_log = time.time(), sum(tokens_seen.values())
        if cfg["eval_interval"] and done % cfg["eval_interval"] == 0 and done != plan["total_steps"] and master:
            validate_now(done)
        if is_ckpt:
            # never a checkpoint of a non-finite state: the losses were checked above, and the
            # weights can overflow under a finite loss (a huge step), so they are checked too
            if not bool(torch.stack([p.isfinite().all() for p in raw.parameters()]).all()):
                diverged("the weights are not finite", done)
            sums = loss_sums.clone()
            if ddp:  # the log accumulators of every rank, summed as the log would
                dist.all_reduce(sums)
            if master:
                ckpt_writer.save(ckpt_path, dict(
                    model=raw.state_dict(), optim=opt.state_dict(), step=done, sampler=sampler.state_dict(),
                    tokens_seen=tokens_seen, wall_s=wall_prev + time.time() - t0, rng={"torch": torch.get_rng_state()},
                    log_acc={"sums": sums.tolist(), "counts": list(loss_counts)},
                    config=cfg, vocab_size=vocab, padded_vocab=padded_vocab))
            last_good = done
    ckpt_writer.wait()
    bar.close()
    if master:
        ev = validate_now(plan["total_steps"])
        wall = wall_prev + time.time() - t0
        summary = {"run_name": cfg["run_name"], "method": cfg["method"], "hrl": cfg["hrl"], "lrl": cfg["lrl"],
                   "budget": cfg["budget"], "val_loss": {k: v["loss"] for k, v in ev.items()},
                   "val_bpb": {k: v["bpb"] for k, v in ev.items()}, "val_tokens": {k: v["tokens"] for k, v in ev.items()},
                   "tokens_seen": tokens_seen, "steps": plan["total_steps"], "params": raw.num_params(), "wall_s": round(wall, 1),
                   "derived": {lang: manifest["languages"][lang]["derived"] for lang in streams if "derived" in manifest["languages"][lang]},
                   "val_bpb_se": {k: v["bpb_se"] for k, v in ev.items()}, "params_total": raw.num_params(exclude_embedding=False),
                   **run_record(cfg, plan, manifest, flops_tok)}
        atomic_write(os.path.join(rd, "summary.json"), lambda f: json.dump(summary, f, indent=1), mode="w")
        print(f"done: {rd} in {wall:.0f}s; val bpb " + ", ".join(f"{k} {v['bpb']:.4f}" for k, v in ev.items()))
    if samples_log:
        samples_log.close()
    if ddp:  # every rank waits for rank 0's evaluation and summary, then all leave together
        dist.barrier()
        dist.destroy_process_group()


def stage_of(step, plan):
    return next((st for st in plan["stages"] if step < st["start_step"] + st["steps"]), plan["stages"][-1])


def main(argv):
    """Everything a user can get wrong is checked here, before a step runs or a file is
    written: one line naming the field, exit code 2."""
    try:
        pos, over = parse_args(argv)
        if over.pop("help", False):
            print(help_text(os.path.abspath(__file__), __doc__))
            return 0
        flags = {f: over.pop(f, False) for f in FLAGS}
        for f in ("dry_run", "resume", "overwrite"):
            if not isinstance(flags[f], bool):
                raise ConfigError(f"--{f}: a flag takes no value, got --{f}={flags[f]!r}")
        if len(pos) != 1:
            raise ConfigError(f"config: give one config file, got {len(pos)}; usage: " + __doc__.strip().splitlines()[2].strip())
        if flags["resume"] and flags["overwrite"]:
            raise ConfigError("--resume and --overwrite: pick one")
        cfg = resolve_config(pos[0], over)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        plan = build_plan(cfg, world)
        if flags["dry_run"]:
            manifest = None
            if os.path.isfile(os.path.join(cfg["data_dir"], "manifest.json")):
                manifest = data.load_manifest(cfg["data_dir"])
                check_data(cfg, manifest)
            print(format_plan(cfg, plan, manifest))
            print(format_cost(cfg, plan, manifest))
            return 0
        manifest = data.load_manifest(cfg["data_dir"])
        check_data(cfg, manifest)
        for lang in cfg["budget"]:
            for split in ("train", "val"):
                data.load_split(cfg["data_dir"], manifest, lang, split)
        check_device(cfg)
        check_tracking(cfg)
    except ConfigError as e:
        fail(e)
    try:  # the run dir stays locked until this process is done with it
        mode = prepare_run_dir(cfg, flags, manifest, DEFAULTS, master=int(os.environ.get("RANK", "0")) == 0)
        if mode == "done":
            print(f"{os.path.join(cfg['out_dir'], cfg['run_name'])} already finished (summary.json); nothing to do")
            return 0
        train(cfg, flags, plan, manifest, mode)
    except ConfigError as e:  # found while checking the run dir or loading a checkpoint, before any step
        fail(e)
    finally:
        unlock(_lock_path(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
