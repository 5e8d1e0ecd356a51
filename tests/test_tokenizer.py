"""tokenizer.py: BPE training, exact round trips, the joint/disjoint/stock variants."""
import gzip
import hashlib
import json
import os

import numpy as np
import pytest

from scalex import tokenizer
from scalex.configurator import ConfigError

TEXTS = ["The river runs under 3 bridges.", "中国的语言学习模型。", "mixed 中英 text, 123456 ok!",
         "emoji 🙂 and tabs\t\n\n  spaces", "Ünïcödé ñ", ""]


def _samples(corpus, n=100):
    en = [json.loads(x)["text"] for x in open(os.path.join(corpus, "en.jsonl"))][:n]
    with gzip.open(os.path.join(corpus, "zh.jsonl.gz"), "rt") as f:
        zh = [json.loads(x)["text"] for x in f][:n]
    return {"en": en, "zh": zh}


def _cfg(variant, vocab=400):
    return {"tokenizer": variant, "languages": {"en": "", "zh": ""}, "vocab_size": vocab, "tokenizer_sample_bytes": 1}


def test_bpe_learns_merges_for_both_languages(corpus):
    s = _samples(corpus)
    ranks = tokenizer.train_bpe(s["en"] + s["zh"], 600)
    assert len(ranks) == 599 and sorted(ranks.values()) == list(range(599))
    multi = [t for t in ranks if len(t) > 1]
    assert any(t.strip().isascii() and len(t) > 3 for t in multi)
    han = [t.decode("utf-8", "replace") for t in multi if not t.isascii()]
    assert any(all("\u4e00" <= c <= "\u9fff" for c in h) for h in han)  # whole Han characters


@pytest.mark.parametrize("variant", ["joint", "disjoint"])
def test_round_trip_and_ids(corpus, tmp_path, variant):
    h = tokenizer.build_tokenizer(_cfg(variant), _samples(corpus), str(tmp_path))
    assert h == tokenizer.tokenizer_hash(str(tmp_path)) and len(h) == 64
    tok = tokenizer.load_tokenizer(str(tmp_path))
    assert tok.base_vocab == 400 and tok.n_vocab == (800 if variant == "disjoint" else 400)
    for lang in ("en", "zh"):
        for text in TEXTS:
            flat, lengths = tok.encode_docs([text], lang)
            assert tok.decode(flat) == text and lengths[0] == len(flat)
            assert flat[-1] == tok.meta["eot"] + tok.offsets[lang]
            assert flat.min() >= tok.offsets[lang] and flat.max() < tok.offsets[lang] + tok.base_vocab


def test_disjoint_shares_no_id_and_keeps_the_joint_segmentation(corpus, tmp_path):
    s = _samples(corpus)
    tokenizer.build_tokenizer(_cfg("joint"), s, str(tmp_path / "j"))
    tokenizer.build_tokenizer(_cfg("disjoint"), s, str(tmp_path / "d"))
    j, d = tokenizer.load_tokenizer(str(tmp_path / "j")), tokenizer.load_tokenizer(str(tmp_path / "d"))
    en_j, _ = j.encode_docs(s["en"][:50], "en")
    zh_j, _ = j.encode_docs(s["zh"][:50], "zh")
    en_d, _ = d.encode_docs(s["en"][:50], "en")
    zh_d, _ = d.encode_docs(s["zh"][:50], "zh")
    assert set(en_j.tolist()) & set(zh_j.tolist())          # the joint one shares (digits, ASCII, EOT)
    assert not set(en_d.tolist()) & set(zh_d.tolist())      # the disjoint one never does
    assert np.array_equal(en_d, en_j) and np.array_equal(zh_d - 400, zh_j)  # same tokens, shifted ids
    tb = d.token_bytes()
    assert len(tb) == 800 and np.array_equal(tb[:400], tb[400:]) and tb[d.meta["eot"]] == 0


def test_token_bytes_count_utf8(corpus, tmp_path):
    tokenizer.build_tokenizer(_cfg("joint"), _samples(corpus), str(tmp_path))
    tok = tokenizer.load_tokenizer(str(tmp_path))
    flat, _ = tok.encode_docs(["中文 and English 42"], "zh")
    assert tok.token_bytes()[flat].sum() == len("中文 and English 42".encode())


def test_stock_encoding_from_a_cache(corpus, tmp_path, monkeypatch):
    """A stock tiktoken encoding is used when cached. The cache here is fake, built from our
    own ranks (OpenAI's files are neither downloadable here nor ours to ship), so the
    cache's content check is switched off for the test."""
    import tiktoken
    import tiktoken.load
    import tiktoken.registry
    ranks = tokenizer.train_bpe(_samples(corpus)["en"], 300)
    cache = tmp_path / "cache"
    cache.mkdir()
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_text(
        "".join(f"{__import__('base64').b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken.load, "check_hash", lambda data, h: True)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    tokenizer.build_tokenizer(_cfg("cl100k_base"), {}, str(tmp_path / "t"))
    tok = tokenizer.load_tokenizer(str(tmp_path / "t"))
    assert tok.meta["variant"] == "cl100k_base" and tok.meta["eot"] == 100257 and tok.n_vocab == 100258  # ranks (ours, small) up to the end-of-text id; other specials unused
    flat, _ = tok.encode_docs(["hello world 中文"], "en")
    assert tok.decode(flat) == "hello world 中文" and flat[-1] == 100257


def test_stock_encoding_unavailable_is_a_config_error(tmp_path, monkeypatch):
    import tiktoken.registry
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setattr("socket.create_connection", lambda *a, **k: (_ for _ in ()).throw(OSError("no network in tests")))
    with pytest.raises(ConfigError, match="tokenizer: cannot load tiktoken's 'o200k_base'"):
        tokenizer.build_tokenizer(_cfg("o200k_base"), {}, str(tmp_path))
    with pytest.raises(ConfigError, match="tokenizer: cannot load tiktoken's 'nope'"):
        tokenizer.build_tokenizer(_cfg("nope"), {}, str(tmp_path))
