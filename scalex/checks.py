"""
The rules of a run's config that involve several keys (each key's own type and range is the
schema's: train.py's SETTINGS), and of the data it names. Checked before torch is loaded or a
file is written: one line naming the field and the fix (exit 2).
"""
import os
from dataclasses import fields

from scalex.configurator import ConfigError
from scalex.presets import PRESETS, ModelConfig
from scalex.schema import BOOL, Dict, Int, List, Num, Record, Str, T

LR_SHAPES = ("constant", "cosine", "linear")
STAGE = Record("a dict with 'lr' and 'tokens' (or 'total' and 'mix')", need=("lr",), name=Str(), lr=Str(*LR_SHAPES),
               tokens=Dict(Int(1), "a dict {language: tokens}", nonempty=True), total=Int(1),
               mix=Dict(Num(0, above=True), "a dict {language: share}", nonempty=True), lr_from=Num(0), lr_to=Num(0))
STAGES = List(STAGE, "a non-empty list of stages", nonempty=True)
RUN_NAME = T("a relative path below out_dir without '.', '..' or hidden parts", lambda v: Str(empty=True).test(v) and (
    v == "" or not v.startswith("/") and not any(p in ("", ".", "..") or p.startswith(".") for p in v.split("/"))))
# model_args: every ModelConfig field but the two the run and its data set
MODEL_ARGS = Record("a dict of model settings", **{
    f.name: {"int": Int(0 if f.name == "d_ff" else 1), "float": Num(0, above=True), "bool": BOOL}[f.type.__name__]
    for f in fields(ModelConfig) if f.name not in ("vocab_size", "block_size")})
DEVICE = T("auto, cpu, cuda or cuda:N", lambda v: v in ("auto", "cpu", "cuda") or str(v).startswith("cuda:") and v[5:].isdigit())


def run_rules(cfg):
    """The rules of several keys, once every key has its type."""
    if cfg["lr_min"] > cfg["lr_max"]:
        raise ConfigError(f"lr_min: {cfg['lr_min']} is above lr_max {cfg['lr_max']}; the decays end at lr_min")
    if cfg["stage2_tokens"] and cfg["stage2_hrl_fraction"]:
        raise ConfigError("stage2_tokens: a fixed stage-2 length does not go with stage2_hrl_fraction > 0; set one of them to 0")
    m = {**vars(ModelConfig()), **PRESETS[cfg["model"]], **cfg["model_args"]}
    if m["d_model"] % m["n_head"] or m["d_model"] // m["n_head"] % 2:
        raise ConfigError(f"model_args.d_model: {m['d_model']} is not a multiple of n_head {m['n_head']} with an even "
                          f"head size (RoPE rotates pairs); change d_model or n_head")
    if m["n_head"] % m["n_kv_head"]:
        raise ConfigError(f"model_args.n_kv_head: n_head {m['n_head']} is not a multiple of it ({m['n_kv_head']})")
    if cfg["hrl_unique"] >= cfg["budget"].get(cfg["hrl"], cfg["hrl_unique"] + 1):
        raise ConfigError(f"hrl_unique: {cfg['hrl_unique']:,} is not below budget.{cfg['hrl']} {cfg['budget'][cfg['hrl']]:,}; "
                          f"lower it (0: every HRL token unique)")
    if cfg["hrl"] == cfg["lrl"]:
        raise ConfigError(f"lrl: '{cfg['lrl']}' is also the hrl; the low-resource language must be another one")
    for k in ("hrl", "lrl"):  # a one-language run (a test, an ablation) needs only one of them
        if cfg[k] not in cfg["budget"] and (len(cfg["budget"]) > 1 or cfg["hrl" if k == "lrl" else "lrl"] not in cfg["budget"]):
            raise ConfigError(f"{k}: '{cfg[k]}' is not a language of this run; budget has {', '.join(cfg['budget'])}")


def stage_rules(cfg):
    """The stages a recipe wrote or a config gave: each one's shape and its languages."""
    STAGES.check("stages", cfg["stages"])
    for i, st in enumerate(cfg["stages"]):
        if ("tokens" in st) == ("mix" in st or "total" in st) or ("mix" in st) != ("total" in st):
            raise ConfigError(f"stages[{i}]: give either tokens={{lang: n}} or total=n with mix={{lang: share}}")
        parts = st.get("tokens") or st["mix"]
        if "mix" in st and abs(sum(parts.values()) - 1) > 1e-6:
            raise ConfigError(f"stages[{i}].mix: shares sum to {sum(parts.values()):.6g}, must sum to 1")
        for lang in set(parts) - set(cfg["budget"]):
            raise ConfigError(f"stages[{i}]: unknown language '{lang}'; languages of this run (budget): {', '.join(cfg['budget'])}")


def check_device(cfg):
    """A device that is not there is bad input too (torch is loaded only to ask)."""
    if cfg["device"].startswith("cuda"):
        import torch
        n = torch.cuda.device_count()
        idx = int(cfg["device"][5:] or 0) if ":" in cfg["device"] else 0
        if idx >= n:
            raise ConfigError(f"device: {cfg['device']} asked, this machine has {n} CUDA device(s); use device=auto or cpu")


# What a CPU needs for bf16 autocast to pay: native bf16 dot products (x86: AVX512_BF16 or AMX;
# ARM: BF16 or SVE-BF16). Without them torch emulates bf16 matmuls, slower than float32.
CPU_BF16 = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")  # torch.cpu.get_capabilities() keys
CPUINFO_BF16 = ("avx512_bf16", "amx_bf16", "bf16", "svebf16")  # the same in /proc/cpuinfo's flags


def cpu_has_bf16():
    """Whether this CPU multiplies bf16 natively: torch's detection (get_capabilities from torch
    2.13, the x86-only _is_* helpers before it), else the flags Linux lists in /proc/cpuinfo."""
    import torch
    if hasattr(torch.cpu, "get_capabilities"):
        return any(torch.cpu.get_capabilities().get(k) for k in CPU_BF16)
    older = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # AMX: Intel's have AMX-BF16
    if any(getattr(torch.cpu, f, lambda: False)() for f in older):
        return True
    try:
        with open("/proc/cpuinfo") as f:
            return bool(set(f.read().split()) & set(CPUINFO_BF16))
    except OSError:  # not Linux: no flags to read, float32
        return False


def resolve_dtype(dtype, device):
    """A run's dtype setting on this device -> "bfloat16" (autocast) or "float32". auto: bfloat16
    on a GPU and on a CPU with native bf16 (cpu_has_bf16), float32 elsewhere."""
    if dtype != "auto":
        return dtype
    return "bfloat16" if str(device).startswith("cuda") or cpu_has_bf16() else "float32"


def check_data(cfg, manifest):
    """The data a run asks for is there: its tokenizer, every language and enough tokens."""
    for f in manifest["tokenizer"].get("files", []):
        if not os.path.isfile(os.path.join(cfg["data_dir"], f)):
            raise ConfigError(f"data_dir: {cfg['data_dir']} has no {f} (its tokenizer); copy it back or prepare the data dir again")
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
        # a window longer than a whole held-out split: a mistake
        for split, key in (("val", "val_tokens"), ("test", "test_tokens"), ("ood", "ood_tokens")):
            held = manifest["languages"][lang].get(split, {}).get("tokens")
            if held is not None and held < cfg["block_size"] + 1:
                raise ConfigError(f"block_size: {cfg['block_size']} is longer than {lang}'s {split} split ({held:,} tokens in "
                                  f"{cfg['data_dir']}); lower block_size, or prepare a data_dir with a larger {key}")
