"""
Checks of a training config and of the data it names, run before torch is loaded or a file
is written: every mistake a user can make is one line naming the field and the fix (exit 2).
train.py calls these; the method's own code assumes a checked config.
"""
import math
import os

from scalex.configurator import ConfigError

LR_SHAPES = ("constant", "cosine", "linear")


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _model_schema():
    """(preset names, {field: type name}) of model.py, read from its source: a config is
    checked before torch (which model.py imports) is loaded."""
    import ast
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model.py")) as f:
        tree = ast.parse(f.read())
    presets, fields = [], {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PRESETS":
            presets = [k.value for k in node.value.keys]
        if isinstance(node, ast.ClassDef) and node.name == "ModelConfig":
            fields = {n.target.id: n.annotation.id for n in node.body if isinstance(n, ast.AnnAssign)}
    return presets, fields


def validate(cfg, defaults):
    """Every key, before torch is imported or anything is written: a wrong type or value is
    one line naming the key (a key added to the defaults is at least type-checked)."""
    for k, default in defaults.items():
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
    if not cfg["lrl_epochs"] > 0:
        raise ConfigError(f"lrl_epochs: passes over the LRL budget, must be > 0, got {cfg['lrl_epochs']!r}")
    if not 0 < cfg["stage2_lrl_share"] < 1:
        raise ConfigError(f"stage2_lrl_share: the LRL share of stage 2, strictly between 0 and 1, got {cfg['stage2_lrl_share']!r}")
    if not 0 <= cfg["stage2_hrl_fraction"] < 1:
        raise ConfigError(f"stage2_hrl_fraction: the share of the HRL budget stage 2 reads, in [0, 1) (0: fixed length), "
                          f"got {cfg['stage2_hrl_fraction']!r}")
    if cfg["stage2_tokens"] and cfg["stage2_hrl_fraction"]:
        raise ConfigError("stage2_tokens: a fixed stage-2 length does not go with stage2_hrl_fraction > 0; set one of them to 0")
    if cfg["stage2_tokens"] < 0:
        raise ConfigError(f"stage2_tokens: must be 0 (from the LRL budget) or a positive number of tokens, got {cfg['stage2_tokens']!r}")
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
    for k in ("hrl", "lrl"):  # a one-language run (a test, an ablation) needs only one of them
        if cfg[k] not in cfg["budget"] and (len(cfg["budget"]) > 1 or cfg["hrl" if k == "lrl" else "lrl"] not in cfg["budget"]):
            raise ConfigError(f"{k}: '{cfg[k]}' is not a language of this run; budget has {', '.join(cfg['budget'])}")

def validate_stages(cfg):
    """The stages a recipe wrote or a config gave: shapes, token counts, known languages."""
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


def check_device(cfg):
    """A device that is not there is bad input too (torch is loaded only to ask)."""
    if cfg["device"].startswith("cuda"):
        import torch
        n = torch.cuda.device_count()
        idx = int(cfg["device"][5:] or 0) if ":" in cfg["device"] else 0
        if idx >= n:
            raise ConfigError(f"device: {cfg['device']} asked, this machine has {n} CUDA device(s); use device=auto or cpu")


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
        ood = manifest["languages"][lang].get("ood", {}).get("tokens")
        if ood is not None and ood < cfg["block_size"] + 1:
            raise ConfigError(f"block_size: {cfg['block_size']} is longer than {lang}'s out-of-domain text ({ood:,} tokens in "
                              f"{cfg['data_dir']}); lower block_size, or prepare a data_dir with a larger ood_tokens")
        val = manifest["languages"][lang]["val"]["tokens"]
        if val < cfg["block_size"] + 1:
            raise ConfigError(f"block_size: {cfg['block_size']} is longer than {lang}'s validation data ({val:,} tokens in "
                              f"{cfg['data_dir']}); lower block_size, or prepare a data_dir with a larger val_tokens")
