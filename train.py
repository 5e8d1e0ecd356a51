"""
Train one run of a language plan: the method of the paper in one file.

    python train.py config/quickstart/common.py --method=scalex [--key=value ...] [--dry_run] [--resume] [--overwrite]
    python train.py CONFIG --resume --allow=lr_max,lr_min   continue with changed settings (recorded)
    torchrun --nproc_per_node=8 train.py CONFIG ...          (DDP: the same plan and global batch)
    python train.py --help                                   every key, its default and its meaning

Read top to bottom: the defaults; the recipes (`joint`, `lrl_only`, `lrl_only_epochs`,
`scalex`, ...), each a few lines turning the budgets into stages, picked by `method=`; `build_plan` (stages -> steps
and sequence counts per language); `lr_at` (the schedule, a pure function); `train` (the
loop). ScaleX is two stages: the high-resource language alone at a constant LR, then a
high+low-resource mixture under cosine decay. `--dry_run` prints the plan and exits.
Everything a run did lands in runs/<run_name>/ (scalex/rundir.py): config.json, metrics.jsonl,
summary.json, ckpt.pt; a run directory is locked while a process trains it.
"""
import contextlib
import json
import math
import os
import sys
import time

import numpy as np

import data
from eval import evaluate_held_out
from scalex.checks import DEVICE, MODEL_ARGS, RUN_NAME, STAGE, check_data, check_device, resolve_dtype, run_rules, stage_rules
from scalex.configurator import ConfigError, fail, load_config, parse_args, require
from scalex.files import progress, unlock
from scalex.rundir import (CheckpointWriter, _lock_path, check_checkpoint, check_tracking, format_cost, format_plan, load_checkpoint,
                           prepare_run_dir, start_records, write_summary)
from scalex.presets import PRESETS
from scalex.schema import BOOL, Dict, Int, List, Num, Str, T, Table
from scalex.tokenizer import load_tokenizer

# -----------------------------------------------------------------------------
# defaults: every setting of a run, its type and meaning (a config file sets them; --key=value
# overrides both; unknown keys are errors; --help prints this table)
SETTINGS = Table(
    ("run_name", "", RUN_NAME, "default: <the config's folder below config/>/<method>, e.g. quickstart/scalex"),
    ("scale", "quickstart", Str(), "the size family (config/<scale>/): recorded in summary.json for the report"),
    ("experiment", "", Str(empty=True), "the experiment family the run belongs to (sweep.py sets it), e.g. scalex"),
    ("out_dir", "runs", Str(), "runs land in out_dir/run_name"),
    ("method", "", Str(empty=True), "a recipe below (scalex, joint, lrl_only, ...); with `stages` given, only a label"),
    ("data_dir", "data/quickstart", Str(), "a folder data.py prepared"),
    ("hrl", "en", Str(), "the language the report treats as high-resource"),
    ("lrl", "zh", Str(), "the language the report treats as low-resource"),
    ("budget", {"en": 2_000_000, "zh": 500_000}, Dict(Int(1), "a dict {language: train tokens}", nonempty=True),
     "train tokens each language may use: a prefix of its shard"),
    ("hrl_unique", 0, Int(0), "if > 0: the HRL reads only this prefix, repeated to its budget (the repeated-data control)"),
    ("stages", [], List(STAGE), "the plan written out by hand (a list of stages) instead of a recipe"),
    "recipe settings",
    ("lrl_epochs", 1.0, Num(0, above=True), "passes over each LRL budget in every bilingual recipe (lrl_only: compute-matched to them)"),
    ("stage2_lrl_share", 0.5, Num(0, 1, above=True), "ScaleX: the LRL share of stage 2 (the mixture) ..."),
    ("stage2_tokens", 0, Int(0), "... and its length in tokens (0: as long as it takes to read the LRL at that share)"),
    ("stage2_hrl_fraction", 0.0, Num(0, 1), "ScaleX: if > 0, stage 2 reads this fraction of the HRL budget (with all the LRL) instead"),
    "model",
    ("model", "tiny", Str(*PRESETS), "a preset of model.PRESETS"),
    ("model_args", {}, MODEL_ARGS, "preset overrides; --model_args.n_layer=4 sets one, --model_args={...} replaces all"),
    ("vocab_size", 0, Int(0), "0: the data's tokenizer decides; else at least its vocabulary"),
    ("block_size", 128, Int(1), "tokens per training window"),
    "optimizer and schedule",
    ("batch_size", 16, Int(1), "sequences per micro-batch per process"),
    ("grad_accum", 1, Int(1), "micro-batches per optimizer step"),
    ("lr_max", 3e-3, Num(0), "the peak learning rate"),
    ("lr_min", 3e-4, Num(0), "the floor cosine and linear decays end at"),
    ("warmup_steps", 20, Int(0), "linear warmup at the start of the run"),
    ("weight_decay", 0.1, Num(0), "AdamW's decoupled weight decay"),
    ("betas", [0.9, 0.95], List(Num(0, 1), "two numbers in [0, 1)", n=2), "AdamW's betas"),
    ("grad_clip", 1.0, Num(0), "the gradient norm clip (0: none)"),
    "system",
    ("device", "auto", DEVICE, "auto: cuda when present, else cpu"),
    ("dtype", "auto", Str("auto", "float32", "bfloat16"), "auto: bf16 autocast on cuda or a CPU with native bf16, else float32"),
    ("compile", False, BOOL, "torch.compile the model"),
    ("kernels", "auto", Str("auto", "torch", "triton"), "auto | torch | triton: see kernels.py"),
    ("seed", 1337, Int(0, 2 ** 63), "seeds the model's init and the sampler's order"),
    "logging, evaluation, checkpoints",
    ("log_interval", 10, Int(1), "steps between train-loss lines"),
    ("eval_interval", 0, Int(0), "steps between per-language validations (learning curves); 0: only at the end"),
    ("eval_tokens", 100_000, Int(1), "val and ood tokens per language scored (at most the shard); test: whole"),
    ("ckpt_interval", 200, Int(1), "steps between checkpoints"),
    ("log_samples", False, BOOL, "write every sequence each process read to samples_rank<R>.jsonl"),
    ("wandb_log", False, BOOL, "also log metrics to Weights & Biases (needs `pip install wandb`)"),
    ("wandb_project", "scalex", Str(), "the W&B project"),
    ("tensorboard", False, BOOL, "also log metrics as TensorBoard events in the run dir (needs tensorboard)"),
)
DEFAULTS = SETTINGS.defaults
FLAGS = Table(  # the command line's flags: what to do with the run dir, not settings of the run
    ("dry_run", False, BOOL, "print the plan and its cost, and exit"),
    ("resume", False, BOOL, "continue the run in its folder (a finished one: nothing to do)"),
    ("overwrite", False, BOOL, "move an existing run folder aside (run_name.old-TIME) and start anew"),
    ("allow", False, T("KEY[,KEY]", lambda v: isinstance(v, (bool, str))), "with --resume: keys that may change"), prefix="--")
# -----------------------------------------------------------------------------

# Dense bf16 peak FLOP/s per GPU for MFU, by a substring of the device name.
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12,
              "A10": 125e12, "4090": 165e12, "3090": 71e12, "V100": 125e12}
EXIT_DIVERGED = 3


# ----------------------------------------------------------------------------- recipes
# A recipe turns a run's budgets into stages: which languages, in which order and proportion,
# under which LR shape. Each bilingual recipe reads the HRL budget once and each LRL budget
# `lrl_epochs` times, so every recipe trains on the same number of tokens in the same number
# of steps (compute-matched); only the order and mixture of languages differ (hrl_unique cuts
# the HRL's unique text, not its reads). A stage gives `tokens` per language, or a `total`
# with `mix` shares; its LR runs from where the last ended.
def _lrl_reads(c):
    """{language: tokens read} of every language but the HRL: lrl_epochs passes over its budget."""
    return {l: round(c["lrl_epochs"] * n) for l, n in c["budget"].items() if l != c["hrl"]}


def unique_tokens(c):  # {language: the prefix of its shard a run reads}
    return {l: c["hrl_unique"] if l == c["hrl"] and c["hrl_unique"] else n for l, n in c["budget"].items()}


def _natural(c):
    """The mixture both budgets make when read as the recipes read them (joint's proportions)."""
    reads = {c["hrl"]: c["budget"][c["hrl"]], **_lrl_reads(c)}
    return {l: n / sum(reads.values()) for l, n in reads.items()}


def joint(c):
    """The joint baseline: one cosine stage over all languages at their natural proportions."""
    return [{"name": "joint", "lr": "cosine", "tokens": {c["hrl"]: c["budget"][c["hrl"]], **_lrl_reads(c)}}]


def lrl_only(c):
    """The LRL alone for as many tokens as the bilingual recipes read: the bar at equal compute."""
    return [{"name": "lrl", "lr": "cosine", "tokens": {c["lrl"]: c["budget"][c["hrl"]] + sum(_lrl_reads(c).values())}}]


def lrl_only_epochs(c):
    """The LRL alone for lrl_epochs passes, whatever the HRL budget: swept over epochs, its
    best is the best any LRL-only run reaches (not compute-matched, on purpose)."""
    return [{"name": "lrl", "lr": "cosine", "tokens": {c["lrl"]: round(c["lrl_epochs"] * c["budget"][c["lrl"]])}}]


def _stage2(c):
    """(stage-1 HRL tokens, stage-2 total, {language: stage-2 share}) of the ScaleX recipes.
    Stage 2 reads all of the LRL (lrl_epochs passes) mixed with fresh HRL text. Its length is
    fixed by the LRL at share stage2_lrl_share (so it is the same whatever the HRL budget), or,
    with stage2_hrl_fraction > 0, it reads that fraction of the HRL budget (so it grows with it)."""
    b, hrl, reads = c["budget"], c["hrl"], _lrl_reads(c)
    L = sum(reads.values())
    if c["stage2_hrl_fraction"] > 0:
        s2_hrl = round(c["stage2_hrl_fraction"] * b[hrl])
        s2_lrl = {l: n for l, n in reads.items()}
    else:
        s2 = c["stage2_tokens"] or round(L / c["stage2_lrl_share"])
        lrl_total = round(s2 * c["stage2_lrl_share"])  # with stage2_tokens set, the LRL repeats or is cut
        s2_hrl = s2 - lrl_total
        s2_lrl = {l: round(lrl_total * n / L) for l, n in reads.items()}
    require(b[hrl] > s2_hrl, f"budget.{hrl}: ScaleX's stage 2 reads {s2_hrl:,} {hrl} tokens, so budget.{hrl} must be larger "
            f"(got {b[hrl]:,}); raise budget.{hrl}, or raise stage2_lrl_share / lower stage2_tokens")
    tokens = {hrl: s2_hrl, **s2_lrl}
    total = sum(tokens.values())
    return b[hrl] - s2_hrl, tokens, {l: n / total for l, n in tokens.items()}


def scalex(c):
    """ScaleX: the HRL alone at a constant LR, then HRL + LRL under cosine decay. Stage 2's HRL
    is fresh text (the sampler's cursor carries on), so each budget is read as joint reads it."""
    s1, s2, _ = _stage2(c)
    return [{"name": "hrl", "lr": "constant", "tokens": {c["hrl"]: s1}},
            {"name": "mix", "lr": "cosine", "tokens": s2}]


def scalex_fixed(c):
    """ScaleX with stage 2 as long as reading the LRL at share stage2_lrl_share takes (fixed)."""
    return scalex({**c, "stage2_hrl_fraction": 0.0})


def scalex_frac(c):
    """ScaleX with stage 2 reading stage2_hrl_fraction (0.25 if unset) of the HRL budget."""
    return scalex({**c, "stage2_hrl_fraction": c["stage2_hrl_fraction"] or 0.25})


def scalex_s2short(c):
    """Stage-2 length ablation, short side: stage 2 at LRL share 0.8 (1.25x the LRL reads)."""
    return scalex({**c, "stage2_lrl_share": 0.8, "stage2_hrl_fraction": 0.0})


def scalex_s2long(c):
    """Stage-2 length ablation, long side: stage 2 at LRL share 0.25 (4x the LRL reads)."""
    return scalex({**c, "stage2_lrl_share": 0.25, "stage2_hrl_fraction": 0.0})


def scalex_cosine(c):
    """LR ablation: ScaleX's data order, but stage 1 decays as a run of its own would and stage
    2 re-warms (linear to lr_max over its first 10%, then cosine): isolates the schedule."""
    s1, s2, mix = _stage2(c)
    w = round(0.1 * sum(s2.values()))
    return [{"name": "hrl", "lr": "cosine", "tokens": {c["hrl"]: s1}},
            {"name": "rewarm", "lr": "linear", "lr_to": c["lr_max"], "total": w, "mix": mix},
            {"name": "mix", "lr": "cosine", "lr_from": c["lr_max"], "total": sum(s2.values()) - w, "mix": mix}]


def scalex_wsd(c):
    """LR ablation: ScaleX's order under warmup-stable-decay: lr_max through stage 1 and half
    of stage 2, then a linear decay to lr_min over the second half."""
    s1, s2, mix = _stage2(c)
    half = round(0.5 * sum(s2.values()))
    return [{"name": "hrl", "lr": "constant", "tokens": {c["hrl"]: s1}},
            {"name": "mix", "lr": "constant", "total": half, "mix": mix},
            {"name": "decay", "lr": "linear", "total": sum(s2.values()) - half, "mix": mix}]


def mix_scalex_schedule(c):
    """Order vs schedule: joint's natural mixture throughout, under ScaleX's schedule (constant
    for as long as its stage 1, cosine for as long as its stage 2)."""
    s1, s2, _ = _stage2(c)
    return [{"name": "stable", "lr": "constant", "total": s1, "mix": _natural(c)},
            {"name": "decay", "lr": "cosine", "total": sum(s2.values()), "mix": _natural(c)}]


def seq_hrl_lrl(c):
    """Sequential: the HRL alone at a constant LR, then the LRL alone under cosine (ScaleX
    without the stage-2 mixture)."""
    return [{"name": "hrl", "lr": "constant", "tokens": {c["hrl"]: c["budget"][c["hrl"]]}},
            {"name": "lrl", "lr": "cosine", "tokens": _lrl_reads(c)}]


def seq_lrl_hrl(c):
    """Sequential the other way: the LRL first at a constant LR, then the HRL under cosine."""
    return [{"name": "lrl", "lr": "constant", "tokens": _lrl_reads(c)},
            {"name": "hrl", "lr": "cosine", "tokens": {c["hrl"]: c["budget"][c["hrl"]]}}]


def _proportion(share):
    def recipe(c):
        total = c["budget"][c["hrl"]] + sum(_lrl_reads(c).values())
        return [{"name": "mix", "lr": "cosine", "total": total, "mix": {c["hrl"]: 1 - share / 100, c["lrl"]: share / 100}}]
    recipe.__doc__ = (f"Proportion: one cosine stage with the LRL at {share}% of joint's tokens; the LRL "
                      f"repeats (or the HRL is cut) as the share demands.")
    return recipe


def translate(c):
    """Data transformation: the LRL plus the HRL budget machine-translated into the LRL (the
    stream <lrl>_translated, from the HRL's documents in order), one cosine stage."""
    return [{"name": "translated", "lr": "cosine", "tokens": {c["lrl"] + "_translated": c["budget"][c["hrl"]], **_lrl_reads(c)}}]


def codeswitch(c):
    """Data transformation: the HRL with a share of its words replaced by LRL translations (the
    stream <hrl>_codeswitch) plus the LRL, one cosine stage."""
    return [{"name": "codeswitch", "lr": "cosine", "tokens": {c["hrl"] + "_codeswitch": c["budget"][c["hrl"]], **_lrl_reads(c)}}]


RECIPES = {"joint": joint, "scalex": scalex, "lrl_only": lrl_only, "lrl_only_epochs": lrl_only_epochs,
           "seq_hrl_lrl": seq_hrl_lrl, "seq_lrl_hrl": seq_lrl_hrl, "mix_scalex_schedule": mix_scalex_schedule,
           "prop10": _proportion(10), "prop25": _proportion(25), "prop50": _proportion(50),
           "scalex_fixed": scalex_fixed, "scalex_frac": scalex_frac, "scalex_s2short": scalex_s2short,
           "scalex_s2long": scalex_s2long, "scalex_cosine": scalex_cosine, "scalex_wsd": scalex_wsd,
           "translate": translate, "codeswitch": codeswitch}


# ----------------------------------------------------------------------------- plan and schedule
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
    total = sum(st.get("total") or sum(st["tokens"].values()) for st in cfg["stages"])
    if tokens_per_step > total:
        raise ConfigError(f"grad_accum: one step (batch_size x grad_accum x block_size) is {tokens_per_step:,} tokens, more than "
                          f"the plan's {total:,}; lower grad_accum or batch_size")
    windows = {lang: max(1, (n - 1) // block) for lang, n in unique_tokens(cfg).items()}
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
    constant at lr_max, then cosine from lr_max to lr_min). Warmup scales the first steps. A
    stage's last step sits one step short of lr_to (t < 1): the next stage starts there."""
    for st in plan["stages"]:
        if step < st["start_step"] + st["steps"] or st is plan["stages"][-1]:
            break
    t = min(1.0, (step - st["start_step"]) / st["steps"])
    a, b = st["lr_from"], st["lr_to"]
    lr = {"constant": a, "linear": a + (b - a) * t, "cosine": b + (a - b) * 0.5 * (1 + math.cos(math.pi * t))}[st["lr"]]
    if step < warmup_steps:
        lr *= (step + 1) / warmup_steps
    return lr


def stage_of(step, plan):
    return next((st for st in plan["stages"] if step < st["start_step"] + st["steps"]), plan["stages"][-1])


# ----------------------------------------------------------------------------- training
def setup_device(cfg):
    """(ddp, rank, world, device, autocast, dtype): one process per GPU under torchrun, else one."""
    import torch
    import torch.distributed as dist
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    dev = cfg["device"] if cfg["device"] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if world > 1:
        dist.init_process_group("nccl" if dev.startswith("cuda") else "gloo")
        if dev.startswith("cuda"):
            dev = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if dev.startswith("cuda"):
        torch.cuda.set_device(dev)
    dtype = resolve_dtype(cfg["dtype"], dev)  # auto: bf16 where the device multiplies it natively
    autocast = torch.autocast(dev.split(":")[0], dtype=torch.bfloat16) if dtype == "bfloat16" else contextlib.nullcontext()
    return world > 1, rank, world, dev, autocast, dtype


def build(cfg, plan, manifest, dev, ddp):
    """The model (raw, and as trained: DDP-wrapped, compiled), its optimizer and the sampler,
    fresh: what a checkpoint restores."""
    import torch

    from model import build_model
    torch.manual_seed(cfg["seed"])
    streams = {lang: data.load_split(cfg["data_dir"], manifest, lang, "train").head(n) for lang, n in unique_tokens(cfg).items()}
    # matmul-friendly; the extra rows are never targets
    padded_vocab = 64 * math.ceil(max(manifest["tokenizer"]["n_vocab"], cfg["vocab_size"]) / 64)
    raw = build_model(cfg["model"], padded_vocab, cfg["block_size"], **cfg["model_args"]).to(dev)
    decay = [p for p in raw.parameters() if p.dim() >= 2]  # matrices decay; norms' gains do not
    no_decay = [p for p in raw.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg["lr_max"], betas=tuple(cfg["betas"]), fused=dev.startswith("cuda"))
    sampler = data.Sampler(streams, [st["seqs"] for st in plan["stages"]], cfg["block_size"], cfg["seed"])
    model = raw
    if ddp:  # wrapped before compiling, so the compiled graph includes DDP's hooks
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if dev.startswith("cuda") else None)
    return raw, torch.compile(model) if cfg["compile"] else model, opt, sampler, padded_vocab


def to_device(arr, lang_ids, T, dev):
    """Inputs, targets and each row's language id on the device: one array, one copy, from
    pinned memory without blocking on a GPU (the host prepares the next batch meanwhile)."""
    import torch
    t = torch.from_numpy(np.concatenate([arr, np.asarray(lang_ids, dtype=np.int64)[:, None]], axis=1))
    t = t.pin_memory().to(dev, non_blocking=True) if dev.startswith("cuda") else t
    return t[:, :T], t[:, 1:T + 1], t[:, T + 1]


def restore(path, cfg, plan, flags, raw, opt, sampler, padded_vocab, dev, master):
    """Load the run's checkpoint (refusing another run's) into the fresh objects:
    -> (step, tokens seen, wall s, log sums, log counts)."""
    import torch
    ck = load_checkpoint(path, map_location=dev)
    check_checkpoint(ck, cfg, plan, flags, DEFAULTS)
    if ck["padded_vocab"] != padded_vocab:
        raise ConfigError(f"vocab_size: the checkpoint's model has {ck['padded_vocab']} ids, the data needs {padded_vocab}")
    raw.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optim"])
    sampler.load_state_dict(ck["sampler"])
    torch.set_rng_state(ck["rng"]["torch"].cpu())  # map_location may have moved it to the GPU
    acc = ck.get("log_acc", {"sums": [0.0] * len(sampler.langs), "counts": [0] * len(sampler.langs)})
    sums = acc["sums"] if master else [0.0] * len(acc["sums"])  # the sums of all ranks: rank 0 carries them
    return ck["step"], ck["tokens_seen"], ck["wall_s"], sums, list(acc["counts"])


def train(cfg, flags, plan, manifest, mode):
    import torch
    import torch.distributed as dist

    import kernels
    ddp, rank, world, dev, autocast, dtype = setup_device(cfg)
    master, T, total = rank == 0, cfg["block_size"], plan["total_steps"]
    kernels.set_backend(cfg["kernels"])
    raw, model, opt, sampler, padded_vocab = build(cfg, plan, manifest, dev, ddp)
    held_out = data.load_held_out(cfg["data_dir"], manifest, cfg["budget"])  # val; test and ood where the data has them
    tok, langs = load_tokenizer(cfg["data_dir"]), sampler.langs
    rd = os.path.join(cfg["out_dir"], cfg["run_name"])
    ckpt_path = os.path.join(rd, "ckpt.pt")
    start, tokens_seen, wall_prev, sums, counts = 0, {lang: 0 for lang in langs}, 0.0, [0.0] * len(langs), [0] * len(langs)
    if mode == "resume":
        start, tokens_seen, wall_prev, sums, counts = restore(ckpt_path, cfg, plan, flags, raw, opt, sampler, padded_vocab, dev, master)
        master and print(f"resuming {rd} at step {start}")
    write = start_records(rd, mode, start, cfg, plan, manifest, raw, dev) if master else (lambda rec: None)
    os.makedirs(rd, exist_ok=True)  # every rank: each writes its own samples log
    samples_log = open(os.path.join(rd, f"samples_rank{rank}.jsonl"), "a") if cfg["log_samples"] else None
    B, A = plan["rank_batch"]["batch_size"], plan["rank_batch"]["grad_accum"]
    # Nothing in a step waits for the device: the losses, their per-language sums (their token
    # counts are known on the host from the picks) and the first non-finite step stay on it
    # until a log or checkpoint step reads them.
    loss_sums = torch.tensor(sums, dtype=torch.float64, device=dev)
    first_bad, bad_loss = torch.full((), -1, dtype=torch.int64, device=dev), torch.zeros((), device=dev)
    meter = Meter(raw, dev, world, sum(tokens_seen.values()))
    ckpt_writer, last_good, t0 = CheckpointWriter(), start, time.time()
    global_sum = (lambda x, op=dist.ReduceOp.SUM: dist.all_reduce(x, op=op) or x) if ddp else (lambda x, op=None: x)

    def validate_now(at, final=False):  # a point of the learning curves; final: and the test split
        ev = evaluate_held_out(raw, held_out, tok, T, B, cfg["eval_tokens"], dev, autocast, final)
        bpb = {f"{split}_bpb": {k: v["bpb"] for k, v in e.items()} for split, e in ev.items()}
        write({"step": at, "val_loss": {k: v["loss"] for k, v in ev["val"].items()}, **bpb, "tokens_seen": dict(tokens_seen)})
        return ev

    bar = progress(total=total, initial=start, desc="train", unit="step", disable=not master)
    for step in range(start, total):
        lr = lr_at(step, plan, cfg["warmup_steps"])
        for g in opt.param_groups:
            g["lr"] = lr
        picks = sampler.next_sequences(plan["seqs_per_step"])
        for lang, _, _ in picks:
            tokens_seen[lang] += T
            counts[langs.index(lang)] += T  # every rank's sequences: the global count
        mine = picks[rank::world]  # rank r reads every world-th sequence: no sequence twice
        samples_log and samples_log.write(json.dumps({"step": step, "picks": mine}) + "\n")
        step_loss = torch.zeros((), device=dev)
        for k in range(A):
            micro = mine[k * B:(k + 1) * B]
            x, y, lang_ids = to_device(sampler.tokens(micro), [langs.index(l) for l, _, _ in micro], T, dev)
            with (contextlib.nullcontext() if not ddp or k == A - 1 else model.no_sync()), autocast:
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
        is_log, is_ckpt = done % cfg["log_interval"] == 0 or done == total, done % cfg["ckpt_interval"] == 0 or done == total
        if is_log or is_ckpt:  # the host reads the device: finiteness first (every rank decides alike)
            step_loss = global_sum(step_loss) / world
            if global_sum(first_bad, dist.ReduceOp.MAX).item() >= 0:
                diverged(f"loss is {bad_loss.item()}", first_bad.item(), plan, cfg, ckpt_path, last_good, bar, ckpt_writer)
        if is_log:
            s = global_sum(loss_sums.clone()).tolist()
            write({"step": done, "stage": stage_of(step, plan)["name"], "lr": lr, "loss": step_loss.item(),
                   "train_loss": {lang: s[i] / counts[i] for i, lang in enumerate(langs) if counts[i] > 0},
                   "tokens_seen": dict(tokens_seen), **meter.rates(sum(tokens_seen.values()))})
            bar.set_postfix(loss=f"{step_loss.item():.3f}", lr=f"{lr:.2e}")
            loss_sums.zero_()
            counts = [0] * len(langs)
        if cfg["eval_interval"] and done % cfg["eval_interval"] == 0 and done != total and master:
            validate_now(done)
        if is_ckpt:
            # never a checkpoint of a non-finite state: the weights can overflow under a finite loss
            if not bool(torch.stack([p.isfinite().all() for p in raw.parameters()]).all()):
                diverged("the weights are not finite", done, plan, cfg, ckpt_path, last_good, bar, ckpt_writer)
            s = global_sum(loss_sums.clone())  # the log accumulators of every rank, summed as the log would
            master and ckpt_writer.save(ckpt_path, dict(
                model=raw.state_dict(), optim=opt.state_dict(), step=done, sampler=sampler.state_dict(), tokens_seen=tokens_seen,
                wall_s=wall_prev + time.time() - t0, rng={"torch": torch.get_rng_state()}, log_acc={"sums": s.tolist(), "counts": list(counts)},
                config=cfg, vocab_size=manifest["tokenizer"]["n_vocab"], padded_vocab=padded_vocab))
            last_good = done
    ckpt_writer.wait()
    bar.close()
    if master:
        ev = validate_now(total, final=True)
        write_summary(rd, cfg, plan, manifest, raw, ev, tokens_seen, wall_prev + time.time() - t0, raw.flops_per_token(T), dtype)
        write.finish()  # metrics.jsonl closed, the W&B run finished
    samples_log and samples_log.close()
    if ddp:  # every rank waits for rank 0's evaluation and summary, then all leave together
        dist.barrier()
        dist.destroy_process_group()


class Meter:
    """Throughput between log steps, and MFU on a GPU whose peak is known."""

    def __init__(self, raw, dev, world, tokens):
        import torch
        name = torch.cuda.get_device_name(dev) if dev.startswith("cuda") else ""
        self.peak = next((v * world for k, v in PEAK_FLOPS.items() if k in name), None) if name else None
        self.flops_tok, self.t, self.tokens = raw.flops_per_token(raw.config.block_size), time.time(), tokens

    def rates(self, tokens):
        tps = (tokens - self.tokens) / max(time.time() - self.t, 1e-9)
        self.t, self.tokens = time.time(), tokens
        return {"tokens_per_s": round(tps), **({"mfu": self.flops_tok * tps / self.peak} if self.peak else {})}


def diverged(what, at, plan, cfg, ckpt_path, last_good, bar, ckpt_writer):
    """A non-finite loss or weights: stop with the step, the stage, the LR, and how to go on."""
    bar.close()
    ckpt_writer.wait()
    print(f"error: training diverged: {what} at step {at} (stage {stage_of(at, plan)['name']}, "
          f"lr {lr_at(at, plan, cfg['warmup_steps']):.3g}); the last good checkpoint is "
          f"{ckpt_path if os.path.exists(ckpt_path) else 'none'} (step {last_good}). Lower lr_max and continue from it "
          f"(--resume --allow=lr_max --lr_max=...), or check the data.", file=sys.stderr)
    sys.exit(EXIT_DIVERGED)


# ----------------------------------------------------------------------------- the command line
def resolve_config(path, overrides):
    """The config file and overrides -> a checked config whose stages are written out."""
    cfg = SETTINGS.check(load_config(path, overrides, DEFAULTS))
    stem = os.path.splitext(os.path.relpath(path, "config"))[0] if path else "run"
    stem = stem if not stem.startswith("..") else os.path.basename(stem)
    m, recipe = cfg["method"], cfg["stages"] == []
    if recipe and m not in RECIPES:
        raise ConfigError(f"method: {'unknown recipe ' + repr(m) if m else 'missing'}; use one of {', '.join(RECIPES)} (or give stages)")
    if not recipe and m in RECIPES:
        raise ConfigError(f"stages: given by hand, but method={m} is a recipe that writes them; "
                          f"drop stages, or label your plan with another method name")
    cfg["method"] = m or os.path.basename(stem)
    cfg["run_name"] = cfg["run_name"] or (os.path.join(os.path.dirname(stem), m) if recipe else stem)
    run_rules(cfg)
    if recipe:
        try:
            cfg["stages"] = RECIPES[m](cfg)
        except KeyError as e:  # a recipe reads budget[hrl] and budget[lrl]
            raise ConfigError(f"budget.{e.args[0]}: method={m} reads the {e.args[0]} budget; add it to budget") from None
        for st in cfg["stages"]:  # a synthetic stream a recipe reads (translate) is read once, as far as it reads
            for lang, n in st.get("tokens", {}).items():
                cfg["budget"].setdefault(lang, n)
    stage_rules(cfg)
    return cfg


def main(argv):
    """Everything a user can get wrong is checked here, before a step runs or a file is written."""
    try:
        pos, over = parse_args(argv)
        if over.pop("help", False):
            print(__doc__.strip(), "settings (a config file sets them; --key=value overrides both):\n" + SETTINGS.help(), "flags:\n"
                  + FLAGS.help(), sep="\n\n")
            return 0
        flags = FLAGS.check({f: over.pop(f, False) for f in FLAGS.keys})
        if len(pos) != 1:
            raise ConfigError(f"config: give one config file, got {len(pos)}; usage: " + __doc__.strip().splitlines()[2].strip())
        if flags["resume"] and flags["overwrite"]:
            raise ConfigError("--resume and --overwrite: pick one")
        cfg = resolve_config(pos[0], over)
        manifest = None
        if not flags["dry_run"] or os.path.isfile(os.path.join(cfg["data_dir"], "manifest.json")):
            manifest = data.load_manifest(cfg["data_dir"])
            check_data(cfg, manifest)
        plan = build_plan(cfg, int(os.environ.get("WORLD_SIZE", "1")))
        if flags["dry_run"]:
            print(format_plan(cfg, plan, manifest))
            print(format_cost(cfg, plan, manifest))
            return 0
        for lang in cfg["budget"]:
            for split in ("train", "val"):
                data.load_split(cfg["data_dir"], manifest, lang, split)
        check_device(cfg)
        check_tracking(cfg)
    except (ConfigError, OSError) as e:
        fail(e)
    try:  # the run dir stays locked until this process is done with it
        mode = prepare_run_dir(cfg, flags, manifest, DEFAULTS, master=int(os.environ.get("RANK", "0")) == 0)
        if mode == "done":
            print(f"{os.path.join(cfg['out_dir'], cfg['run_name'])} already finished (summary.json); nothing to do")
            return 0
        train(cfg, flags, plan, manifest, mode)
    except (ConfigError, OSError) as e:  # found while checking the run dir or loading a checkpoint; a full disk
        fail(e)
    finally:
        unlock(_lock_path(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
