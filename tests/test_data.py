"""data.py: shards, preparation (parallel, resumable, idempotent, nested budgets, flat
memory), the shared-token statistics, and the language sampler."""
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

import data
from scalex import datastats, prepare
from scalex import tokenizer
from scalex.configurator import ConfigError
from conftest import ROOT, data_config, make_corpus, run, write_config


# ----------------------------------------------------------------------------- shards
def test_shard_roundtrip_and_dtypes(tmp_path):
    toks = np.array([0, 5, 65535, 7])
    prepare.write_shard(tmp_path / "a.bin", toks, 65536, "h" * 64)
    r = data.read_shard(str(tmp_path / "a.bin"), "h" * 64)
    assert r.dtype == np.uint16 and list(r) == list(toks)
    prepare.write_shard(tmp_path / "b.bin", np.array([70000, 1]), 100000, "h" * 64)
    assert data.read_shard(str(tmp_path / "b.bin")).dtype == np.uint32
    w = prepare.ShardWriter(str(tmp_path / "c.bin"), 1000, "h" * 64)
    w.add(np.arange(5))
    assert not os.path.exists(tmp_path / "c.bin")  # not loadable until complete
    w.add(np.arange(5, 12))
    w.close()
    assert list(data.read_shard(str(tmp_path / "c.bin"), "h" * 64)) == list(range(12))


def test_shard_refuses_bad_files(tmp_path):
    prepare.write_shard(tmp_path / "a.bin", np.arange(100), 1000, "a" * 64)
    with pytest.raises(ConfigError, match="another tokenizer"):
        data.read_shard(str(tmp_path / "a.bin"), "b" * 64)
    blob = open(tmp_path / "a.bin", "rb").read()
    open(tmp_path / "torn.bin", "wb").write(blob[:-10])
    with pytest.raises(ConfigError, match="header says 100 tokens"):
        data.read_shard(str(tmp_path / "torn.bin"))
    open(tmp_path / "junk.bin", "wb").write(b"X" * 300)
    with pytest.raises(ConfigError, match="bad header"):
        data.read_shard(str(tmp_path / "junk.bin"))


def test_token_stream_reads_across_shards():
    parts = [np.arange(0, 7), np.arange(7, 10), np.arange(10, 30)]
    s = data.TokenStream(parts)
    assert len(s) == 30 and list(s[5:12]) == list(range(5, 12)) and list(s[0:30]) == list(range(30))
    h = s.head(9)
    assert len(h) == 9 and list(h[6:9]) == [6, 7, 8] and list(h[0:100]) == list(range(9))


# ----------------------------------------------------------------------------- prepare
def _docs(stream, tok):
    out, cur = [], []
    for t in stream[0:len(stream)]:
        if t % tok.base_vocab == tok.meta["eot"]:
            out.append(tok.decode(cur))
            cur = []
        else:
            cur.append(int(t))
    return out


def test_prepare_outputs_and_val_disjoint(prepared):
    d, m = prepared
    tok = tokenizer.load_tokenizer(d)
    assert m["tokenizer"]["n_vocab"] == 320 and m["tokenizer"]["variant"] == "joint"
    assert m["tokenizer"]["sha256"] == tokenizer.tokenizer_hash(d) and not os.path.exists(os.path.join(d, "progress.json"))
    for lang in ("en", "zh"):
        tr, va = data.load_split(d, m, lang, "train"), data.load_split(d, m, lang, "val")
        lm = m["languages"][lang]
        assert len(tr) == lm["train"]["tokens"] == {"en": 20_000, "zh": 8_000}[lang]
        assert [s["file"] for s in lm["train"]["shards"]] == [f"train-{i:05d}.bin" for i in range(len(lm["train"]["shards"]))]
        assert len(va) == lm["val"]["tokens"] >= 1_000 and va[len(va) - 1:len(va)][0] == tok.meta["eot"]
        val_docs = _docs(va, tok)
        assert sum(len(x.encode()) for x in val_docs) == lm["val"]["bytes"] and len(val_docs) == lm["val"]["docs"]
        assert not set(val_docs) & set(_docs(tr, tok)), "a validation document is in train"
        assert lm["train"]["docs"] > 0 and lm["train"]["text_bytes"] > 0
        assert lm["tokenize_buffer"]["peak"] <= lm["tokenize_buffer"]["limit"]


def test_prepare_is_idempotent_and_refuses_a_changed_config(corpus, prepared, tmp_path):
    d, m = prepared
    before = {f: os.path.getmtime(os.path.join(d, f)) for f in ("manifest.json", "tokenizer.tiktoken", "en/train-00000.bin")}
    msgs = []
    prepare.prepare(data_config(corpus, d), log=msgs.append)
    assert "nothing to do" in msgs[0]
    assert before == {f: os.path.getmtime(os.path.join(d, f)) for f in before}
    base = (f"data_dir = {d!r}\nlocal_dir = {corpus!r}\nmax_tokens = {{'en': 20_000, 'zh': 8_000}}\nval_tokens = 1000\n"
            "test_tokens = {'en': 1000, 'zh': 1000}\n"
            "vocab_size = 320\ntokenizer_sample_bytes = 50_000\nshuffle_block = 50\nshard_tokens = 3000\nworkers = 1\n")
    for change, field in (("vocab_size = 400", "vocab_size"), ("max_tokens = {'en': 30_000, 'zh': 8_000}", "max_tokens"),
                          ("tokenizer = 'disjoint'", "tokenizer")):
        r = run("data.py", "prepare", write_config(tmp_path / "d.py", base + change + "\n"))
        assert r.returncode == 2 and r.stderr.startswith(f"error: {field}:") and len(r.stderr.strip().splitlines()) == 1
    assert run("data.py", "prepare", write_config(tmp_path / "d.py", base + "workers = 2\n")).returncode == 0  # not a data change


def test_changed_source_is_named(tmp_path):
    c = make_corpus(str(tmp_path / "c"), n_en=120, n_zh=60)
    cfg = data_config(c, tmp_path / "d", max_tokens={"en": 3000, "zh": 1000}, val_tokens=200)
    prepare.prepare(cfg, log=lambda *a: None)
    with open(os.path.join(c, "en.jsonl"), "a") as f:
        f.write('{"text": "one more document"}\n')
    with pytest.raises(ConfigError, match="languages.en: the source's files changed"):
        prepare.prepare(cfg, log=lambda *a: None)


def test_budgets_nest_and_workers_do_not_change_the_result(corpus, prepared, tmp_path):
    d, m = prepared
    big = prepare.prepare(data_config(corpus, tmp_path / "big", max_tokens={"en": 40_000, "zh": 8_000}, workers=2), log=lambda *a: None)
    small_en = data.load_split(d, m, "en", "train")
    big_en = data.load_split(str(tmp_path / "big"), big, "en", "train")
    # same tokenizer sample -> same tokenizer; the first 20k tokens of the 40k set are the 20k set
    assert big["tokenizer"]["sha256"] == m["tokenizer"]["sha256"]
    assert np.array_equal(big_en[0:20_000], small_en[0:20_000])
    assert big["languages"]["zh"]["train"]["shards"][0]["sha256"] == m["languages"]["zh"]["train"]["shards"][0]["sha256"]


def test_fixed_size_shards(corpus, tmp_path):
    m = prepare.prepare(data_config(corpus, tmp_path / "d", shard_tokens=3_000), log=lambda *a: None)
    sizes = [s["tokens"] for s in m["languages"]["en"]["train"]["shards"]]
    assert sizes == [3000] * 6 + [2000]


def _kill_when(path_pred, p, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout and p.poll() is None:
        if path_pred():
            p.send_signal(signal.SIGKILL)
            p.wait()
            return True
        time.sleep(0.002)
    return False


def test_killed_prepare_resumes_from_its_last_shard(tmp_path):
    """SIGKILL a preparation after some shards; the re-run keeps them, and its result equals
    an uninterrupted preparation's, byte for byte."""
    c = make_corpus(str(tmp_path / "c"), n_en=3000, n_zh=300)
    body = (f"local_dir = {c!r}\nmax_tokens = {{'en': 150_000, 'zh': 8_000}}\nval_tokens = 1000\nvocab_size = 320\n"
            "test_tokens = {'en': 1000, 'zh': 1000}\ntokenizer_sample_bytes = 50_000\nshuffle_block = 50\nshard_tokens = 5_000\n"
            "workers = 1\n")
    ref = tmp_path / "ref"
    assert run("data.py", "prepare", write_config(tmp_path / "ref.py", f"data_dir = {str(ref)!r}\n" + body)).returncode == 0
    d = tmp_path / "d"
    cfg = write_config(tmp_path / "d.py", f"data_dir = {str(d)!r}\n" + body)
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "data.py"), "prepare", cfg], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when(lambda: (d / "en" / "train-00008.bin").exists(), p), "the preparation ended before it could be killed"
    assert not (d / "manifest.json").exists()
    with pytest.raises(ConfigError, match="is not prepared"):
        data.load_manifest(str(d))
    recorded = __import__("json").load(open(d / "progress.json"))["languages"]["en"]["shards"]
    kept = {s["file"]: os.path.getmtime(d / "en" / s["file"]) for s in recorded}
    assert len(kept) >= 8
    r = run("data.py", "prepare", cfg)
    assert r.returncode == 0 and "resuming" in r.stdout
    assert all(os.path.getmtime(d / "en" / f) == t for f, t in kept.items())  # finished shards are never redone
    m, mref = data.load_manifest(str(d)), data.load_manifest(str(ref))
    for lang in ("en", "zh"):
        got = [s["sha256"] for s in m["languages"][lang]["train"]["shards"]]
        assert got == [s["sha256"] for s in mref["languages"][lang]["train"]["shards"]]
    assert m["languages"]["en"]["train"]["docs"] == mref["languages"]["en"]["train"]["docs"]


def test_bounded_buffer_never_exceeds_its_limit(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(prepare, "BATCH_BYTES", 2_000)  # many small tasks
    m = prepare.prepare(data_config(corpus, tmp_path / "d", workers=2), log=lambda *a: None)
    buf = m["languages"]["en"]["tokenize_buffer"]
    assert buf["limit"] == 4 and 1 <= buf["peak"] <= 4


def test_prepare_from_the_hub_equals_local(hub, tmp_path):
    corpus = make_corpus(str(tmp_path / "c"))
    with open(os.path.join(corpus, "en.jsonl"), "rb") as f:
        en = f.read()
    with open(os.path.join(corpus, "zh.jsonl.gz"), "rb") as f:
        zh = f.read()
    hub.files = {("org/en", "data/train.jsonl"): en, ("org/zh", "zh/part.jsonl.gz"): zh}
    cfg = data_config(corpus, tmp_path / "d", local_dir="", languages={"en": "hf:org/en:data", "zh": "hf:org/zh:zh"})
    m = prepare.prepare(cfg, log=lambda *a: None)
    local = prepare.prepare(data_config(corpus, tmp_path / "l"), log=lambda *a: None)
    for lang in ("en", "zh"):
        assert m["languages"][lang]["train"]["shards"] == local["languages"][lang]["train"]["shards"]
        assert m["languages"][lang]["train"]["bytes_downloaded"] > 0
    assert m["languages"]["en"]["kind"] == "hf" and m["languages"]["en"]["source"] == "hf:org/en:data"


@pytest.mark.parametrize("kw,msg", [
    (dict(max_tokens={"en": 0, "zh": 5}), "max_tokens.en: must be a positive integer"),
    (dict(max_tokens={"en": 5}), "max_tokens: give one entry per language"),
    (dict(max_tokens={"en": 10**9, "zh": 5}), "max_tokens.en: the source holds only"),
    (dict(local_dir="/nonexistent"), "local_dir: '/nonexistent' is not a folder"),
    (dict(local_dir="", languages={"en": "/no/such.jsonl", "zh": "/no/zh.jsonl"}), "languages.en: no such file"),
    (dict(workers=-1), "workers: must be an integer >= 0"),
    (dict(shard_tokens=0), "shard_tokens: must be a positive integer"),
])
def test_prepare_bad_input(corpus, tmp_path, kw, msg):
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(")):
        prepare.prepare(data_config(corpus, tmp_path / "d", **kw), log=lambda *a: None)


def test_prepare_missing_language_file(tmp_path):
    c = make_corpus(str(tmp_path / "c"))
    os.remove(os.path.join(c, "zh.jsonl.gz"))
    with pytest.raises(ConfigError, match="local_dir: no file for language 'zh'"):
        prepare.prepare(data_config(c, tmp_path / "d"), log=lambda *a: None)


# ----------------------------------------------------------------------------- stats
def test_shared_token_rate_on_a_hand_made_example(tmp_path):
    """en train holds ids {1, 2, 3}; zh val is [1, 9, 9, 2, EOT]: 2 of its 4 tokens (EOT not
    counted) occur in English, so zh's rate against en is 0.5."""
    d = tmp_path / "d"
    (d / "en").mkdir(parents=True)
    (d / "zh").mkdir()
    tok_meta = {"variant": "joint", "eot": 99, "n_vocab": 100, "offsets": {"en": 0, "zh": 0}}
    shards = {}
    for lang, split, ids in (("en", "train", [1, 2, 3, 99]), ("en", "val", [5, 1, 99]), ("zh", "train", [9, 99]), ("zh", "val", [1, 9, 9, 2, 99])):
        name = "train-00000.bin" if split == "train" else "val.bin"
        prepare.write_shard(d / lang / name, np.array(ids), 100, "h" * 64)
        shards[(lang, split)] = {"shards": [{"file": name, "tokens": len(ids)}], "tokens": len(ids), "bytes": 10}
    prepare.write_json(str(d / "manifest.json"), {"tokenizer": {**tok_meta, "sha256": "h" * 64},
                    "languages": {l: {"train": shards[(l, "train")], "val": shards[(l, "val")]} for l in ("en", "zh")}})
    out = datastats.stats({"data_dir": str(d)}, log=lambda *a: None)
    assert out["languages"]["zh"]["shared_token_rate"] == {"en": 0.5}
    assert out["languages"]["en"]["shared_token_rate"] == {"zh": 0.0}  # en val [5, 1]: neither in zh train [9]
    assert out["languages"]["zh"]["tokens_per_byte"] == 0.5 and os.path.isfile(d / "stats.json")


def test_stats_cli_and_disjoint_variant(corpus, tmp_path):
    for variant in ("joint", "disjoint"):
        d = tmp_path / variant
        prepare.prepare(data_config(corpus, d, tokenizer=variant), log=lambda *a: None)
        cfg = write_config(tmp_path / f"{variant}.py", f"data_dir = {str(d)!r}\n")
        r = run("data.py", "stats", cfg)
        assert r.returncode == 0 and "shared-token rate" in r.stdout
        rate = __import__("json").load(open(d / "stats.json"))["languages"]["zh"]["shared_token_rate"]["en"]
        assert (rate > 0.01) if variant == "joint" else (rate == 0.0)  # synthetic zh shares digits and ASCII only


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
