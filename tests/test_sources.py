"""sources.py: local formats, record skipping, the prefix-stable block shuffle, and the Hub
path against a local server in the Hub's URL layout (127.0.0.1 only) that can drop
connections part-way, fail requests, and serve a corrupt file."""
import gzip
import json
import random

import pytest

import sources
from configurator import ConfigError
from conftest import parquet_bytes


def test_local_formats_and_skip(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    (tmp_path / "a.txt").write_text("first doc\nstill first\n\n\nsecond doc\n")
    (tmp_path / "b.jsonl").write_text('{"text": "one"}\n\n{"text": ""}\n{"text": "two"}\n')
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as f:
        f.write('{"text": "gz"}\n')
    pq.write_table(pa.table({"text": ["p1", "p2", "p3"], "id": [1, 2, 3]}), tmp_path / "d.parquet", row_group_size=2)
    files = [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.jsonl.gz", "d.parquet")]
    everything = ["first doc\nstill first", "second doc", "one", None, "two", "gz", "p1", "p2", "p3"]
    assert list(sources.iter_records("local", files)) == everything
    for k in range(len(everything) + 1):  # a skip runs across files and row groups
        assert list(sources.iter_records("local", files, skip=k)) == everything[k:]
    assert list(sources.iter_documents("local", files)) == [t for t in everything if t]


def test_block_shuffle_is_prefix_stable_and_restartable():
    small = list(sources.block_shuffled(iter(range(500)), 50, seed=3))
    big = list(sources.block_shuffled(iter(range(5000)), 50, seed=3))
    assert sorted(r for _, _, r in small) == list(range(500)) and [r for _, _, r in small] != list(range(500))
    assert big[:500] == small  # the first 500 of a bigger read are the smaller read
    assert [r for _, _, r in sources.block_shuffled(iter(range(500)), 50, seed=4)] != [r for _, _, r in small]
    # restarting at block 3 (skipping its records) gives the same positions and records
    assert list(sources.block_shuffled(iter(range(150, 500)), 50, seed=3, start_block=3)) == small[150:]


def _texts(n):
    rng = random.Random(0)  # incompressible text, so the files are MBs as real ones are
    return [f"document number {i} " + rng.randbytes(2000).hex() for i in range(n)]


def test_hub_streaming_reads_only_what_it_needs(hub):
    texts = _texts(2000)
    hub.files = {("org/ds", "sample/a/000.parquet"): parquet_bytes(texts[:1000], 50),
                 ("org/ds", "sample/a/001.parquet"): parquet_bytes(texts[1000:], 50),
                 ("org/ds", "other/x.parquet"): b"not listed"}
    cfg = {"local_dir": "", "languages": {"en": "hf:org/ds:sample/a"}, "hf_revision": "main"}
    kind, where, files = sources.resolve_source("en", cfg)
    assert kind == "hf" and files == ["org/ds:sample/a/000.parquet", "org/ds:sample/a/001.parquet"]
    counts = {}
    it = sources.iter_records(kind, files, counts=counts)
    assert [next(it) for _ in range(120)] == texts[:120]
    total = sum(len(b) for b in hub.files.values())
    assert hub.sent[0] < total / 3, f"read {hub.sent[0]} of {total} bytes for 120 of 2000 docs"
    assert list(it)[-1] == texts[-1]  # and the second file follows the first
    assert counts["bytes_downloaded"] > 0
    # a skip into the second file fetches no row group of the first
    hub.sent[0] = 0
    assert next(sources.iter_records(kind, files, skip=1500)) == texts[1500]
    assert hub.sent[0] < total / 3


def test_hub_survives_dropped_connections_and_busy_answers(hub):
    texts = _texts(300)
    data = "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()
    hub.files = {("org/j", "d/x.jsonl"): data, ("org/p", "d/x.parquet"): parquet_bytes(texts, 30)}
    for repo, name in (("org/j", "x.jsonl"), ("org/p", "x.parquet")):
        hub.drop_next[0], hub.fail_next[0] = 4, 2
        assert list(sources.iter_records("hf", [f"{repo}:d/{name}"])) == texts
        assert hub.drop_next[0] == 0  # the drops happened, and were resumed


def test_hub_gives_up_with_a_clear_error(hub):
    hub.files = {("org/j", "d/x.jsonl"): b'{"text": "a"}\n' * 1000}
    hub.drop_next[0] = 10 ** 6
    with pytest.raises(ConfigError, match="the download failed after"):
        list(sources.iter_records("hf", ["org/j:d/x.jsonl"]))


@pytest.mark.parametrize("name,blob", [("x.parquet", b"PAR1" + b"\x00garbage" * 100),
                                       ("x.jsonl.gz", b"\x1f\x8b not really gzip" * 20),
                                       ("x.jsonl", b'{"text": "ok"}\n{"text": broken\n')])
def test_corrupt_files_are_named(hub, name, blob):
    hub.files = {("org/c", f"d/{name}"): blob}
    with pytest.raises(ConfigError, match=f"org/c:d/{name} is corrupt"):
        list(sources.iter_records("hf", [f"org/c:d/{name}"]))


def test_hub_unreachable_is_a_config_error(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setattr(sources, "HUB_BACKOFF_S", 0.001)
    with pytest.raises(ConfigError, match="languages: cannot list hf:org/x:y"):
        sources.resolve_source("en", {"local_dir": "", "languages": {"en": "hf:org/x:y"}, "hf_revision": "main"})
