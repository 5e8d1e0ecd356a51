"""data.py: config mechanism, sources (local and Hub), tokenizer, shards, prepare, sampler."""
import gzip
import hashlib
import http.server
import json
import os
import socket
import threading
from collections import Counter

import numpy as np
import pytest

import data
from conftest import data_config, make_corpus, run, write_config
from data import ConfigError

# ----------------------------------------------------------------------------- config
DEF = {"a": 1, "budget": {"en": 10, "zh": 5}, "stages": [], "name": "x"}


def test_config_file_and_overrides(tmp_path):
    p = write_config(tmp_path / "c.py", "a = 2\nbudget = {'en': 100, 'zh': 5}\nstages = [budget['en'] * a]\n_helper = 3\n")
    cfg = data.load_config(p, {}, DEF)
    assert cfg == {"a": 2, "budget": {"en": 100, "zh": 5}, "stages": [200], "name": "x"}
    # an override replaces the file's assignment, and what the file derives follows it
    cfg = data.load_config(p, {"budget.en": 7, "a": 3}, DEF)
    assert cfg["budget"] == {"en": 7, "zh": 5} and cfg["stages"] == [21]
    cfg = data.load_config(p, {"name": "y"}, DEF)  # a key the file never set
    assert cfg["name"] == "y"


def test_config_include_is_relative_to_the_including_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write_config(tmp_path / "sub" / "base.py", "a = 5\n")
    write_config(tmp_path / "sub" / "mid.py", "include('base.py')\nname = 'mid'\n")
    p = write_config(tmp_path / "top.py", "include('sub/mid.py')\nstages = [a]\n")
    assert data.load_config(p, {"a": 9}, DEF)["stages"] == [9]


def test_config_rejects_unknown_keys(tmp_path):
    p = write_config(tmp_path / "c.py", "bogus = 1\n")
    with pytest.raises(ConfigError, match="bogus: unknown config key"):
        data.load_config(p, {}, DEF)
    with pytest.raises(ConfigError, match="--nope: unknown config key"):
        data.load_config(None, {"nope": 1}, DEF)
    with pytest.raises(ConfigError, match="has no entry 'x'"):
        data.load_config(None, {"budget.x.y": 1}, DEF)


def test_parse_args_literals():
    pos, over = data.parse_args(["c.py", "--a=3", "--b=1e-3", "--c={'en': 1}", "--d=hello", "--flag"])
    assert pos == ["c.py"] and over == {"a": 3, "b": 1e-3, "c": {"en": 1}, "d": "hello", "flag": True}


# ----------------------------------------------------------------------------- sources
def test_local_formats(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    (tmp_path / "a.txt").write_text("first doc\nstill first\n\n\nsecond doc\n")
    (tmp_path / "b.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n')
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as f:
        f.write('{"text": "gz"}\n')
    pq.write_table(pa.table({"text": ["p1", "p2"], "id": [1, 2]}), tmp_path / "d.parquet")
    docs = list(data.iter_documents("local", [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.jsonl.gz", "d.parquet")]))
    assert docs == ["first doc\nstill first", "second doc", "one", "two", "gz", "p1", "p2"]


def test_shuffle_is_prefix_stable():
    """The order never depends on how much is read: budgets nest."""
    small = list(data.shuffled(iter(range(500)), 50, seed=3))
    big = list(data.shuffled(iter(range(5000)), 50, seed=3))
    assert sorted(small) == list(range(500)) and small != list(range(500))
    assert big[:450] == small[:450]
    assert list(data.shuffled(iter(range(500)), 50, seed=4))[:450] != small[:450]


class HubHandler(http.server.BaseHTTPRequestHandler):
    """Serves files in the Hugging Face Hub's URL layout: the tree API and resolve/ with
    HTTP Range. Counts the bytes it sent."""
    files, sent = {}, [0]

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/api/datasets/"):
            repo_path = self.path[len("/api/datasets/"):]
            repo, _, rest = repo_path.partition("/tree/main")
            prefix = rest.strip("/")
            entries = [{"type": "file", "path": p, "size": len(b)} for (r, p), b in self.files.items()
                       if r == repo and p.startswith(prefix)]
            body = json.dumps(entries).encode()
            return self._send(200, body, {})
        if "/resolve/main/" in self.path:
            repo, _, path = self.path[len("/datasets/"):].partition("/resolve/main/")
            blob = self.files.get((repo, path))
            if blob is None:
                return self._send(404, b"not found", {})
            rng = self.headers.get("Range")
            if rng:
                a, b = rng.split("=")[1].split("-")
                a, b = int(a), min(int(b), len(blob) - 1)
                return self._send(206, blob[a:b + 1], {"Content-Range": f"bytes {a}-{b}/{len(blob)}"})
            return self._send(200, blob, {})
        self._send(404, b"", {})

    def _send(self, code, body, headers):
        self.send_response(code)
        for k, v in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.sent[0] += len(body)


@pytest.fixture
def hub(monkeypatch):
    """A local Hub on 127.0.0.1; any other connection attempt fails the test."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{srv.server_address[1]}")
    real = socket.create_connection

    def guarded(addr, *a, **kw):
        assert addr[0] in ("127.0.0.1", "localhost"), f"network access outside the test: {addr}"
        return real(addr, *a, **kw)
    monkeypatch.setattr(socket, "create_connection", guarded)
    HubHandler.files, HubHandler.sent[0] = {}, 0
    yield HubHandler
    srv.shutdown()


def _parquet_bytes(texts, row_group_size):
    import io
    import pyarrow as pa
    import pyarrow.parquet as pq
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": texts, "id": list(range(len(texts)))}), buf, row_group_size=row_group_size)
    return buf.getvalue()


def test_hub_streaming_reads_only_what_it_needs(hub, tmp_path):
    import random
    rng = random.Random(0)  # incompressible-ish text, so the files are MBs as real ones are
    texts = [f"document number {i} " + rng.randbytes(2000).hex() for i in range(2000)]
    hub.files = {("org/ds", "sample/a/000.parquet"): _parquet_bytes(texts[:1000], 50),
                 ("org/ds", "sample/a/001.parquet"): _parquet_bytes(texts[1000:], 50),
                 ("org/ds", "other/x.parquet"): b"not listed"}
    cfg = dict(data.DEFAULTS, languages={"en": "hf:org/ds:sample/a"}, max_tokens={"en": 10})
    kind, where, files = data.resolve_source("en", cfg)
    assert kind == "hf" and files == ["org/ds:sample/a/000.parquet", "org/ds:sample/a/001.parquet"]
    it = data.iter_documents(kind, files)
    first = [next(it) for _ in range(120)]
    assert first == texts[:120]
    total = sum(len(b) for b in hub.files.values())
    assert hub.sent[0] < total / 3, f"read {hub.sent[0]} of {total} bytes for 120 of 2000 docs"
    assert list(it)[-1] == texts[-1]  # and the second file follows the first


def test_hub_jsonl_and_prepare(hub, tmp_path):
    corpus = make_corpus(str(tmp_path / "c"))
    with open(os.path.join(corpus, "en.jsonl"), "rb") as f:
        en = f.read()
    with open(os.path.join(corpus, "zh.jsonl.gz"), "rb") as f:
        zh = f.read()
    hub.files = {("org/en", "data/train.jsonl"): en, ("org/zh", "zh/part.jsonl.gz"): zh}
    cfg = data_config(corpus, tmp_path / "d", local_dir="", languages={"en": "hf:org/en:data", "zh": "hf:org/zh:zh"})
    m = data.prepare(cfg, log=lambda *a: None)
    local = data.prepare(data_config(corpus, tmp_path / "l"), log=lambda *a: None)
    for lang in ("en", "zh"):
        assert m["languages"][lang]["train"]["sha256"] == local["languages"][lang]["train"]["sha256"]
    assert m["languages"]["en"]["kind"] == "hf"


def test_hub_unreachable_is_a_config_error(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(ConfigError, match="languages: cannot list hf:org/x:y"):
        data.resolve_source("en", dict(data.DEFAULTS, languages={"en": "hf:org/x:y"}))


# ----------------------------------------------------------------------------- tokenizer
def test_tokenizer_round_trips(prepared):
    d, m = prepared
    enc = data.load_tokenizer(os.path.join(d, "tokenizer.tiktoken"))
    assert enc.n_vocab == 320 and enc.eot_token == 319
    for text in ["The river runs under 3 bridges.", "中国的语言学习模型。", "mixed 中英 text, 123456 ok!",
                 "emoji 🙂 and tabs\t\n\n  spaces", "Ünïcödé ñ", ""]:
        ids = enc.encode_ordinary(text)
        assert enc.decode(ids) == text
        assert all(0 <= i < enc.n_vocab - 1 for i in ids)


def test_bpe_learns_merges_for_both_languages(corpus):
    texts = [json.loads(x)["text"] for x in open(os.path.join(corpus, "en.jsonl"))][:100]
    with gzip.open(os.path.join(corpus, "zh.jsonl.gz"), "rt") as f:
        texts += [json.loads(x)["text"] for x in f][:100]
    ranks = data.train_bpe(texts, 600)
    assert len(ranks) == 599
    multi = [t for t in ranks if len(t) > 1]
    assert any(t.strip().isascii() and len(t) > 3 for t in multi)
    han = [t.decode("utf-8", "replace") for t in multi if not t.isascii()]
    assert any(len(h) >= 1 and all("\u4e00" <= c <= "\u9fff" for c in h) for h in han)  # whole Han characters


def test_token_byte_lengths(prepared):
    d, _ = prepared
    enc = data.load_tokenizer(os.path.join(d, "tokenizer.tiktoken"))
    n = data.token_byte_lengths(enc)
    text = "中文 and English 42"
    ids = enc.encode_ordinary(text)
    assert n[ids].sum() == len(text.encode()) and n[enc.eot_token] == 0


# ----------------------------------------------------------------------------- shards
def test_shard_roundtrip_and_dtypes(tmp_path):
    toks = np.array([0, 5, 65535, 7])
    data.write_shard(tmp_path / "a.bin", toks, 65536, "h" * 64)
    r = data.read_shard(str(tmp_path / "a.bin"), "h" * 64)
    assert r.dtype == np.uint16 and list(r) == list(toks)
    data.write_shard(tmp_path / "b.bin", np.array([70000, 1]), 100000, "h" * 64)
    assert data.read_shard(str(tmp_path / "b.bin")).dtype == np.uint32


def test_shard_refuses_bad_files(tmp_path):
    data.write_shard(tmp_path / "a.bin", np.arange(100), 1000, "a" * 64)
    with pytest.raises(ConfigError, match="another tokenizer"):
        data.read_shard(str(tmp_path / "a.bin"), "b" * 64)
    blob = open(tmp_path / "a.bin", "rb").read()
    open(tmp_path / "torn.bin", "wb").write(blob[:-10])
    with pytest.raises(ConfigError, match="header says 100 tokens"):
        data.read_shard(str(tmp_path / "torn.bin"))
    open(tmp_path / "junk.bin", "wb").write(b"X" * 300)
    with pytest.raises(ConfigError, match="bad header"):
        data.read_shard(str(tmp_path / "junk.bin"))


# ----------------------------------------------------------------------------- prepare
def _docs(shard, enc):
    ids = list(shard)
    out, cur = [], []
    for t in ids:
        if t == enc.eot_token:
            out.append(enc.decode(cur))
            cur = []
        else:
            cur.append(int(t))
    return out


def test_prepare_outputs_and_val_disjoint(prepared):
    d, m = prepared
    enc = data.load_tokenizer(os.path.join(d, "tokenizer.tiktoken"))
    assert m["tokenizer"]["vocab_size"] == 320
    for lang in ("en", "zh"):
        tr = data.read_shard(os.path.join(d, lang, "train.bin"), m["tokenizer"]["sha256"])
        va = data.read_shard(os.path.join(d, lang, "val.bin"), m["tokenizer"]["sha256"])
        lm = m["languages"][lang]
        assert len(tr) == lm["train"]["tokens"] == {"en": 20_000, "zh": 8_000}[lang]
        assert len(va) == lm["val"]["tokens"] >= 1_000 and va[-1] == enc.eot_token
        val_docs = _docs(va, enc)
        assert sum(len(x.encode()) for x in val_docs) == lm["val"]["bytes"] and len(val_docs) == lm["val"]["docs"]
        assert not set(val_docs) & set(_docs(tr, enc)), "a validation document is in train"
        assert lm["train"]["sha256"] == data.sha256_file(os.path.join(d, lang, "train.bin"))


def test_prepare_is_idempotent_and_refuses_a_changed_config(corpus, prepared, tmp_path):
    d, m = prepared
    before = {f: os.path.getmtime(os.path.join(d, f)) for f in ("manifest.json", "tokenizer.tiktoken", "en/train.bin")}
    msgs = []
    data.prepare(data_config(corpus, d), log=msgs.append)
    assert "nothing to do" in msgs[0]
    assert before == {f: os.path.getmtime(os.path.join(d, f)) for f in before}
    cfg = write_config(tmp_path / "d.py", f"data_dir = {d!r}\nlocal_dir = {corpus!r}\nmax_tokens = {{'en': 20_000, 'zh': 8_000}}\n"
                       "val_tokens = 1000\nvocab_size = 400\ntokenizer_sample_bytes = 50_000\nshuffle_buffer = 50\n")
    r = run("data.py", "prepare", cfg)
    assert r.returncode == 2 and r.stderr.startswith("error: vocab_size:") and len(r.stderr.strip().splitlines()) == 1


def test_budgets_nest(corpus, prepared, tmp_path):
    d, m = prepared
    big = data.prepare(data_config(corpus, tmp_path / "big", max_tokens={"en": 40_000, "zh": 8_000}), log=lambda *a: None)
    small_en = data.read_shard(os.path.join(d, "en", "train.bin"))
    big_en = data.read_shard(str(tmp_path / "big" / "en" / "train.bin"))
    # same tokenizer sample -> same tokenizer; the first 20k tokens of the 40k set are the 20k set
    assert big["tokenizer"]["sha256"] == m["tokenizer"]["sha256"]
    assert np.array_equal(big_en[:20_000], small_en)


def test_interrupted_prepare_leaves_nothing_that_loads(corpus, tmp_path, monkeypatch):
    calls = []
    real = data.write_shard

    def dying(path, *a):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(path, *a)
    monkeypatch.setattr(data, "write_shard", dying)
    d = tmp_path / "d"
    with pytest.raises(KeyboardInterrupt):
        data.prepare(data_config(corpus, d), log=lambda *a: None)
    with pytest.raises(ConfigError, match="is not prepared"):
        data.load_manifest(str(d))
    monkeypatch.setattr(data, "write_shard", real)
    m = data.prepare(data_config(corpus, d), log=lambda *a: None)  # and a re-run completes it
    assert m["languages"]["zh"]["train"]["tokens"] == 8_000


@pytest.mark.parametrize("kw,msg", [
    (dict(max_tokens={"en": 0, "zh": 5}), "max_tokens.en: must be a positive integer"),
    (dict(max_tokens={"en": 5}), "max_tokens: give one entry per language"),
    (dict(max_tokens={"en": 10**9, "zh": 5}), "max_tokens.en: the source holds only"),
    (dict(local_dir="/nonexistent"), "local_dir: '/nonexistent' is not a folder"),
    (dict(local_dir="", languages={"en": "/no/such.jsonl", "zh": "/no/zh.jsonl"}), "languages.en: no such file"),
])
def test_prepare_bad_input(corpus, tmp_path, kw, msg):
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(")):
        data.prepare(data_config(corpus, tmp_path / "d", **kw), log=lambda *a: None)


def test_prepare_missing_language_file(tmp_path):
    c = make_corpus(str(tmp_path / "c"))
    os.remove(os.path.join(c, "zh.jsonl.gz"))
    with pytest.raises(ConfigError, match="local_dir: no file for language 'zh'"):
        data.prepare(data_config(c, tmp_path / "d"), log=lambda *a: None)


# ----------------------------------------------------------------------------- sampler
def _sampler(stages, n=(1000, 300), block=10, seed=0):
    streams = {"en": np.arange(n[0]), "zh": np.arange(n[1]) + 10_000}
    return data.Sampler(streams, stages, block, seed)


def test_sampler_tracks_target_shares():
    s = _sampler([{"en": 30}, {"en": 45, "zh": 15}])
    picks = s.next_sequences(90)
    assert all(p[0] == "en" for p in picks[:30])
    running = Counter()
    for i, (lang, _, _) in enumerate(picks[30:], 1):
        running[lang] += 1
        assert abs(running["zh"] - i * 0.25) <= 1, (i, running)  # within one sequence of 25% at every point
    assert running == {"en": 45, "zh": 15}
    with pytest.raises(StopIteration):
        s.next_sequences(1)


def test_sampler_epochs_reshuffle_and_windows_are_exact():
    s = _sampler([{"zh": 2 * 29 + 5}], n=(1000, 300), block=10)  # 299 // 10 = 29 windows of zh
    picks = s.next_sequences(63)
    ep0 = [w for _, w, e in picks if e == 0]
    ep1 = [w for _, w, e in picks if e == 1]
    assert sorted(ep0) == list(range(29)) and sorted(ep1) == list(range(29)) and ep0 != ep1
    assert s.state["epoch"]["zh"] == 2
    x = s.tokens(picks[:2])
    w = picks[0][1]
    assert x.shape == (2, 11) and list(x[0]) == list(range(10_000 + w * 10, 10_000 + w * 10 + 11))


def test_sampler_state_resumes_exactly_and_is_deterministic():
    stages = [{"en": 50}, {"en": 60, "zh": 60}]
    a = _sampler(stages)
    first = a.next_sequences(70)
    state = a.state_dict()
    rest = a.next_sequences(100)
    b = _sampler(stages)
    b.load_state_dict(state)
    assert b.next_sequences(100) == rest
    assert _sampler(stages).next_sequences(170) == first + rest
    assert _sampler(stages, seed=1).next_sequences(170) != first + rest


def test_sampler_ranks_are_disjoint():
    picks = _sampler([{"en": 40, "zh": 40}], n=(5000, 5000)).next_sequences(80)
    r0, r1 = picks[0::2], picks[1::2]
    assert not set(r0) & set(r1) and len(set(r0) | set(r1)) == 80


def test_sampler_rejects_budget_without_a_window():
    with pytest.raises(ConfigError, match="budget.zh"):
        data.Sampler({"en": np.arange(100), "zh": np.arange(5)}, [{"en": 1}], 10, 0)
