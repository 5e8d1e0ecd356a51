"""
Export a run to the Hugging Face format (`python eval.py export RUN OUT_DIR`), so that
transformers and lm-evaluation-harness read it unchanged:

- model.safetensors + config.json: LlamaForCausalLM. Our model is Llama's architecture
  (RMSNorm, RoPE rotating the two halves of each head as HF's rotate_half does, SwiGLU, no
  biases), so the weights map one to one: the fused qkv and gate_up matrices are split, GQA
  is num_key_value_heads, tied embeddings are tie_word_embeddings (no separate lm_head).
  vocab_size is the checkpoint's padded vocabulary; the padding ids are never produced by
  the tokenizer.
- tokenizer.json (+ tokenizer_config.json): the run's byte-level BPE converted by transformers'
  own tiktoken converter (TikTokenConverter: merges recovered from the ranks, tiktoken's split
  pattern, `ignore_merges`), so transformers (requirements-hf.txt) is needed to export. It
  encodes exactly as the run's tiktoken encoding (tests/test_export.py checks ids).
- disjoint tokenizer: a run trained with per-language id offsets has one id block per
  language, and plain text does not say its language, so the exported tokenizer encodes
  into ONE language's block: --lang (default: the run's low-resource language). Export
  again with another --lang for another language's tokenizer (the weights are the same).
- README.md: a model card (the run's settings, data, metrics and how to load the folder).
- scalex_export.json: where it came from (run, step, data by content hash, tokenizer variant
  and language offset); no absolute path. Every file is world-readable (0644).
"""
import os

from scalex.configurator import ConfigError
from scalex.files import read_json, write_json


def hf_config(model, eot_id):
    c = model.config
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": c.vocab_size,
            "hidden_size": c.d_model, "intermediate_size": model.blocks[0].mlp.down.weight.shape[1],
            "num_hidden_layers": c.n_layer, "num_attention_heads": c.n_head, "num_key_value_heads": c.n_kv_head,
            "head_dim": c.d_model // c.n_head, "hidden_act": "silu", "max_position_embeddings": c.block_size,
            "rms_norm_eps": model.norm.eps, "initializer_range": 0.02, "use_cache": True,
            # rope_theta for transformers 4.x readers, rope_parameters for 5.x
            "rope_theta": c.rope_theta, "rope_parameters": {"rope_type": "default", "rope_theta": c.rope_theta},
            "attention_bias": False, "attention_dropout": 0.0, "mlp_bias": False, "pretraining_tp": 1,
            "tie_word_embeddings": c.tie_embeddings, "bos_token_id": eot_id, "eos_token_id": eot_id,
            "torch_dtype": "float32", "dtype": "float32"}


def hf_state_dict(model):
    """Our parameter names and layout -> LlamaForCausalLM's (fp32, contiguous, unshared)."""
    c = model.config
    hd = c.d_model // c.n_head
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    out = {"model.embed_tokens.weight": sd["embed.weight"], "model.norm.weight": sd["norm.weight"]}
    if not c.tie_embeddings:
        out["lm_head.weight"] = sd["head.weight"]
    for i in range(c.n_layer):
        p, q = f"blocks.{i}.", f"model.layers.{i}."
        wq, wk, wv = sd[p + "attn.qkv.weight"].split([c.n_head * hd, c.n_kv_head * hd, c.n_kv_head * hd])
        gate, up = sd[p + "mlp.gate_up.weight"].chunk(2)
        out.update({q + "self_attn.q_proj.weight": wq, q + "self_attn.k_proj.weight": wk, q + "self_attn.v_proj.weight": wv,
                    q + "self_attn.o_proj.weight": sd[p + "attn.proj.weight"],
                    q + "mlp.gate_proj.weight": gate, q + "mlp.up_proj.weight": up, q + "mlp.down_proj.weight": sd[p + "mlp.down.weight"],
                    q + "input_layernorm.weight": sd[p + "norm1.weight"], q + "post_attention_layernorm.weight": sd[p + "norm2.weight"]})
    return {k: v.contiguous().clone() for k, v in out.items()}


def hf_tokenizer(tok, offset=0):
    """An HF `tokenizers.Tokenizer` that encodes as tok.enc (ids shifted by offset), built by
    transformers' TikTokenConverter from the run's ranks (EOT among them, so the special token
    keeps its id in every id block)."""
    from transformers.convert_slow_tokenizer import TikTokenConverter

    from scalex.tokenizer import EOT
    ranks = {t: r + offset for t, r in tok.enc._mergeable_ranks.items()}
    ranks[EOT.encode()] = tok.meta["eot"] + offset

    class Converter(TikTokenConverter):
        def load_tiktoken_bpe(self, _):
            return ranks
    return Converter(pattern=tok.meta["pat_str"], extra_special_tokens=[EOT]).converted()


def need_transformers():
    import importlib.util
    if importlib.util.find_spec("transformers") is None:
        raise ConfigError("export: needs the transformers package (its tokenizer converter); "
                          "`.venv/bin/python -m pip install -r requirements-hf.txt`")


def check_out_dir(out_dir):
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise ConfigError(f"export: {out_dir} exists and is not empty; choose a new folder (nothing is overwritten)")


def _records(run_dir):
    """The run's config.json and summary.json ({} where missing: a checkpoint without them)."""
    out = []
    for name in ("config.json", "summary.json"):
        path = os.path.join(run_dir, name) if run_dir else ""
        out.append(read_json(path, "the run record is damaged") if os.path.isfile(path) else {})
    return out


CARD = """---
library_name: transformers
pipeline_tag: text-generation
language: [{langs}]
tags: [scalex, llama]
---

# {run}

A Llama-architecture causal language model trained with scalex (cross-lingual data scaling,
{langs}) and exported by `python eval.py export`. A small research model: not instruction-tuned,
not meant for deployment. The training text carries its sources' licences (scalex's README).

## Training

| setting | value |
|---|---|
{settings}

## Metrics

Bits per UTF-8 byte on held-out text of the run's data (lower is better), ± one standard error.

| metric | value |
|---|---|
{metrics}

## Use

```python
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained("THIS_FOLDER")
model = AutoModelForCausalLM.from_pretrained("THIS_FOLDER")
```

With lm-evaluation-harness: `lm_eval --model hf --model_args pretrained=THIS_FOLDER --tasks TASK`
(scalex's docs/evaluation.md has a local task that works as copied).
"""


def model_card(model, cfg, tok, info, rec, summary):
    """README.md of the export: what was trained on what, how well, and how to load it."""
    c, plan = model.config, rec.get("plan", {})
    stages = ", ".join(f"{s['name']} ({s['steps']} steps, {s['lr']} LR)" for s in plan.get("stages", []))
    data = cfg.get("data_dir") + (f" (manifest sha256 {info['data_sha256'][:16]}...)" if info["data_sha256"] else "")
    block = f"; encodes into {info['tokenizer_lang']}'s id block" if info["tokenizer_lang"] else ""
    settings = {
        "recipe (train.py method)": cfg.get("method"), "budget (tokens per language)": cfg.get("budget"),
        "LRL epochs": cfg.get("lrl_epochs"), "stages": stages, "tokens seen": summary.get("tokens_seen"),
        "steps": summary.get("steps", plan.get("total_steps")),
        "model": f"{c.n_layer} layers, d_model {c.d_model}, {c.n_head} heads ({c.n_kv_head} KV), "
                 f"context {c.block_size}, {sum(p.numel() for p in model.parameters()):,} parameters",
        "optimizer": f"AdamW, LR {cfg.get('lr_max')} -> {cfg.get('lr_min')}, {plan.get('tokens_per_step')} tokens/step",
        "seed": cfg.get("seed"), "processes": summary.get("world_size", plan.get("world_size")), "data": data,
        "tokenizer": f"{tok.meta['variant']} byte-level BPE, {tok.base_vocab:,} tokens{block}"}
    se = summary.get("val_bpb_se", {})
    metrics = {f"val, {k}": f"{v:.4f}" + (f" ± {se[k]:.4f}" if k in se else "") for k, v in summary.get("val_bpb", {}).items()}
    metrics.update({f"test, {k}": f"{v:.4f}" for k, v in summary.get("test_bpb", {}).items()})
    metrics.update({f"out-of-domain, {k}": f"{v:.4f}" for k, v in summary.get("ood_bpb", {}).items()})
    def cell(v):  # a per-language dict as "en 800,000, zh 20,000"
        return ", ".join(f"{k} {n:,}" for k, n in v.items()) if isinstance(v, dict) else v
    rows = lambda d: "\n".join(f"| {k} | {cell(v)} |" for k, v in d.items() if v not in (None, "", {})) or "| (not recorded) | |"
    return CARD.format(langs=", ".join(tok.offsets), run=cfg.get("run_name") or "scalex model",
                       settings=rows(settings), metrics=rows(metrics))


def export(model, cfg, tok, out_dir, lang=None, run_dir=None):
    """Write the run as a Hugging Face folder (files 0644); returns a one-paragraph summary."""
    from safetensors.torch import save_file

    from scalex.tokenizer import EOT
    check_out_dir(out_dir)
    need_transformers()
    lang = lang or cfg.get("lrl", next(iter(tok.offsets)))
    if tok.meta["variant"] == "disjoint" and lang not in tok.offsets:
        raise ConfigError(f"--lang: '{lang}' is not a language of this run's disjoint tokenizer ({', '.join(tok.offsets)})")
    offset = tok.offsets.get(lang, 0) if tok.meta["variant"] == "disjoint" else 0
    eot_id = tok.meta["eot"] + offset
    rec, summary = _records(run_dir)
    cfg = dict(cfg, **{k: rec["config"][k] for k in ("data_dir",) if k in rec.get("config", {})})  # as the run names it
    data_dir = cfg["data_dir"] if not os.path.isabs(cfg["data_dir"]) else os.path.basename(os.path.normpath(cfg["data_dir"]))
    info = {"run": cfg.get("run_name"), "data_dir": data_dir, "data_sha256": rec.get("data_manifest", {}).get("sha256"),
            "tokenizer_variant": tok.meta["variant"], "tokenizer_lang": lang if tok.meta["variant"] == "disjoint" else None,
            "id_offset": offset, "block_size": model.config.block_size, "eot_id": eot_id}
    os.makedirs(out_dir, exist_ok=True)
    save_file(hf_state_dict(model), os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"), hf_config(model, eot_id))
    hf_tokenizer(tok, offset).save(os.path.join(out_dir, "tokenizer.json"))
    write_json(os.path.join(out_dir, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": EOT, "eos_token": EOT, "pad_token": EOT,
        "model_max_length": model.config.block_size, "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False})
    write_json(os.path.join(out_dir, "scalex_export.json"), info)
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(model_card(model, dict(cfg, data_dir=data_dir), tok, info, rec, summary))
    for name in os.listdir(out_dir):  # safetensors writes 0600; a shared model folder is for reading
        os.chmod(os.path.join(out_dir, name), 0o644)
    note = (f" The tokenizer encodes into {lang}'s id block (offset {offset:,}); export with --lang=... for another."
            if tok.meta["variant"] == "disjoint" else "")
    return (f"wrote {out_dir}: LlamaForCausalLM ({sum(p.numel() for p in model.parameters()):,} parameters, "
            f"vocab {model.config.vocab_size:,}, context {model.config.block_size}), a {tok.meta['variant']} "
            f"tokenizer.json and a model card (README.md).{note}")
