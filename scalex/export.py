"""
Export a run to the Hugging Face format (`python eval.py export RUN OUT_DIR`), so that
transformers and lm-evaluation-harness read it unchanged:

- model.safetensors + config.json: LlamaForCausalLM. Our model is Llama's architecture
  (RMSNorm, RoPE rotating the two halves of each head as HF's rotate_half does, SwiGLU, no
  biases), so the weights map one to one: the fused qkv and gate_up matrices are split, GQA
  is num_key_value_heads, tied embeddings are tie_word_embeddings (no separate lm_head).
  vocab_size is the checkpoint's padded vocabulary; the padding ids are never produced by
  the tokenizer.
- tokenizer.json (+ tokenizer_config.json): the run's byte-level BPE as an HF `tokenizers`
  BPE whose merges are recovered from tiktoken's ranks (the two parts of each token are
  what BPE over the lower-ranked tokens makes of its bytes), with tiktoken's split pattern
  and `ignore_merges` (a piece that is itself a token is kept whole, as tiktoken does). It
  encodes exactly as the run's tiktoken encoding (tests/test_export.py checks ids).
- disjoint tokenizer: a run trained with per-language id offsets has one id block per
  language, and plain text does not say its language, so the exported tokenizer encodes
  into ONE language's block: --lang (default: the run's low-resource language). Export
  again with another --lang for another language's tokenizer (the weights are the same).
- scalex_export.json: where it came from (run, step, tokenizer variant and language offset).
"""
import os

from scalex.configurator import ConfigError
from scalex.files import write_json


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


def _merge_parts(ranks, token):
    """The two tokens BPE joins into `token`: run BPE on its bytes with only lower ranks."""
    limit = ranks[token]
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        for j in range(len(parts) - 1):
            r = ranks.get(parts[j] + parts[j + 1])
            if r is not None and r < limit and (best is None or r < best[0]):
                best = (r, j)
        if best is None:
            return parts
        j = best[1]
        parts[j:j + 2] = [parts[j] + parts[j + 1]]


def hf_tokenizer(tok, offset=0):
    """An HF `tokenizers.Tokenizer` that encodes as tok.enc (ids shifted by offset)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

    from scalex.tokenizer import EOT, _byte_decoder
    to_char = {b: ch for ch, b in _byte_decoder().items()}  # GPT-2's printable form of each byte
    ranks = tok.enc._mergeable_ranks
    def show(t):
        return "".join(to_char[b] for b in t)
    vocab = {show(t): r + offset for t, r in ranks.items()}
    merges = []
    for t, _ in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(t) > 1:
            parts = _merge_parts(ranks, t)
            if len(parts) == 2:  # a token BPE cannot reach is still found whole (ignore_merges)
                merges.append((show(parts[0]), show(parts[1])))
    vocab[EOT] = tok.meta["eot"] + offset
    hf = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True, fuse_unk=False, byte_fallback=False))
    hf.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(tok.meta["pat_str"]), behavior="isolated"),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    hf.decoder = decoders.ByteLevel()
    hf.add_special_tokens([AddedToken(EOT, special=True, normalized=False)])
    return hf


def check_out_dir(out_dir):
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise ConfigError(f"export: {out_dir} exists and is not empty; choose a new folder (nothing is overwritten)")


def export(model, cfg, tok, out_dir, lang=None):
    """Write the run as a Hugging Face folder; returns a one-paragraph summary."""
    from safetensors.torch import save_file

    from scalex.tokenizer import EOT
    check_out_dir(out_dir)
    lang = lang or cfg.get("lrl", next(iter(tok.offsets)))
    if tok.meta["variant"] == "disjoint" and lang not in tok.offsets:
        raise ConfigError(f"--lang: '{lang}' is not a language of this run's disjoint tokenizer ({', '.join(tok.offsets)})")
    offset = tok.offsets.get(lang, 0) if tok.meta["variant"] == "disjoint" else 0
    eot_id = tok.meta["eot"] + offset
    os.makedirs(out_dir, exist_ok=True)
    save_file(hf_state_dict(model), os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"), hf_config(model, eot_id))
    hf_tokenizer(tok, offset).save(os.path.join(out_dir, "tokenizer.json"))
    write_json(os.path.join(out_dir, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": EOT, "eos_token": EOT, "pad_token": EOT,
        "model_max_length": model.config.block_size, "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False})
    write_json(os.path.join(out_dir, "scalex_export.json"), {
        "run": cfg.get("run_name"), "data_dir": cfg["data_dir"], "tokenizer_variant": tok.meta["variant"],
        "tokenizer_lang": lang if tok.meta["variant"] == "disjoint" else None, "id_offset": offset,
        "block_size": model.config.block_size, "eot_id": eot_id})
    note = (f" The tokenizer encodes into {lang}'s id block (offset {offset:,}); export with --lang=... for another."
            if tok.meta["variant"] == "disjoint" else "")
    return (f"wrote {out_dir}: LlamaForCausalLM ({sum(p.numel() for p in model.parameters()):,} parameters, "
            f"vocab {model.config.vocab_size:,}, context {model.config.block_size}) and a {tok.meta['variant']} "
            f"tokenizer.json.{note}")
