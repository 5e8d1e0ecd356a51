"""export.py: a trained run as a Hugging Face LlamaForCausalLM folder that transformers loads
with the same logits, a tokenizer.json (transformers' converter) that gives the same ids as
tiktoken, a model card, world-readable files and no absolute path. The extra: transformers
(requirements-hf.txt); without it these skip, and the export says what to install."""
import importlib.util
import json
import os
import random
import stat

import pytest
import torch

import eval as evaluate_mod
from scalex import export
from scalex import tokenizer
from scalex.configurator import ConfigError
from conftest import EN_WORDS, ZH_CHARS
from trained import trained_run

needs_hf = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                              reason="the hf extra (requirements-hf.txt) is not installed")

TEXTS = ["The river under the mountain, 1234 people!  It's   here:\n\tend",
         "第12号 的一是不了人我在有他这中大来上国个到说们为子和你。龘𠀀",
         "mixed 中文 and English — naïve café 😀 data 999\r\n\n  x 'll 'VE"]


@pytest.fixture(scope="module")
def trun(tmp_path_factory, prepared):
    return trained_run(tmp_path_factory, prepared[0])


def _hf_logits(out_dir, x):
    from transformers import LlamaForCausalLM
    hf = LlamaForCausalLM.from_pretrained(out_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return hf(x).logits


@needs_hf
def test_export_loads_in_transformers_with_our_logits_and_token_ids(trun, tmp_path):
    from transformers import AutoTokenizer
    out = str(tmp_path / "hf")
    model, cfg, tok, _, _ = evaluate_mod.load_run(trun, "cpu")
    assert model.config.tie_embeddings and model.config.n_kv_head < model.config.n_head  # both mappings exercised
    r = evaluate_mod.main(["export", trun, out])
    assert r == 0 and json.load(open(os.path.join(out, "config.json")))["tie_word_embeddings"] is True
    hft = AutoTokenizer.from_pretrained(out)
    ids = [tok.meta["eot"]] + tok.enc.encode_ordinary(TEXTS[0] + TEXTS[1])[:31]
    for t in TEXTS:
        assert hft(t)["input_ids"] == tok.enc.encode_ordinary(t), t
        assert hft.decode(hft(t)["input_ids"]) == t
    assert hft.eos_token_id == tok.meta["eot"]
    x = torch.tensor([ids, ids[::-1]])
    ours = model(x)
    assert (ours - _hf_logits(out, x)).abs().max().item() < 1e-4
    # the folder as the ecosystem takes it: a model card, files anyone can read, no absolute path
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    assert card.startswith("---\nlibrary_name: transformers") and cfg["run_name"] in card
    assert "| val, zh | " in card and "AutoModelForCausalLM.from_pretrained" in card and "lm_eval --model hf" in card
    for name in os.listdir(out):
        assert stat.S_IMODE(os.stat(os.path.join(out, name)).st_mode) == 0o644, name
    meta = json.load(open(os.path.join(out, "scalex_export.json")))
    assert not any(isinstance(v, str) and os.path.isabs(v) for v in meta.values()), meta
    recorded = json.load(open(os.path.join(trun, "config.json")))["config"]["data_dir"]  # absolute here
    assert meta["data_dir"] == os.path.basename(recorded) and meta["data_sha256"]
    with pytest.raises(ConfigError, match="exists and is not empty"):
        export.export(model, cfg, tok, out)


@needs_hf
def test_untied_multi_head_weights_map_too(tmp_path, prepared):
    from model import build_model
    torch.manual_seed(0)
    tok = tokenizer.load_tokenizer(prepared[0])
    model = build_model("tiny", 384, 16, d_model=48, n_head=4, n_kv_head=4, n_layer=3, rope_theta=500.0).eval()
    export.export(model, {"run_name": "x", "data_dir": prepared[0], "lrl": "zh"}, tok, str(tmp_path / "hf"))
    x = torch.randint(0, 320, (3, 16))
    with torch.no_grad():
        ours = model(x)
    assert (ours - _hf_logits(str(tmp_path / "hf"), x)).abs().max().item() < 1e-4


def _bpe(tmp_path, variant, vocab_size=1200):
    rng = random.Random(1)
    en = [" ".join(rng.choice(EN_WORDS) for _ in range(200)) for _ in range(20)]
    zh = ["".join(rng.choice(ZH_CHARS) for _ in range(300)) for _ in range(20)]
    cfg = {"tokenizer": variant, "languages": {"en": "x", "zh": "y"}, "vocab_size": vocab_size, "tokenizer_sample_bytes": 0}
    tokenizer.build_tokenizer(cfg, {"en": en, "zh": zh}, str(tmp_path))
    return tokenizer.load_tokenizer(str(tmp_path)), en + zh


@needs_hf
def test_tokenizer_json_encodes_as_tiktoken_on_a_larger_vocabulary(tmp_path):
    tok, sample = _bpe(tmp_path, "joint")
    hf = export.hf_tokenizer(tok)
    rng = random.Random(2)
    fuzz = ["".join(rng.choice(EN_WORDS + list(ZH_CHARS[:80]) + [" ", "  ", "\n", "'s", "1", "é", ",", "😀"])
                    for _ in range(rng.randint(1, 60))) for _ in range(300)]
    for t in TEXTS + sample[::7] + fuzz:
        assert hf.encode(t).ids == tok.enc.encode_ordinary(t), t
    assert hf.get_vocab_size() == tok.base_vocab


@needs_hf
def test_disjoint_tokenizer_exports_one_languages_id_block(tmp_path):
    tok, _ = _bpe(tmp_path, "disjoint", 600)
    zh_off = tok.offsets["zh"]
    assert zh_off == tok.base_vocab
    hf = export.hf_tokenizer(tok, zh_off)
    for t in TEXTS:
        assert hf.encode(t).ids == [i + zh_off for i in tok.enc.encode_ordinary(t)]
    assert hf.token_to_id("<|endoftext|>") == tok.meta["eot"] + zh_off


def test_export_without_transformers_names_the_extra(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "transformers" else real(n, *a))
    with pytest.raises(ConfigError, match="transformers.*requirements-hf.txt"):
        export.need_transformers()
