"""sources.py: local formats, record skipping, the prefix-stable block shuffle, and the Hub
(through huggingface_hub) against a local server on 127.0.0.1 that behaves like the Hub where it
matters: a paginated non-recursive tree, resolve redirecting to a CDN on another port that
refuses an Authorization header, range reads, private repos, dropped connections, failed
requests and corrupt files."""
import gzip
import json
import os
import random
import subprocess
import sys
import time

import pytest

from scalex import sources
from scalex.configurator import ConfigError
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


def _cfg(spec):
    return {"local_dir": "", "languages": {"en": spec}, "hf_revision": "main"}


def test_hub_listing_follows_pages_and_does_not_descend(hub):
    hub.files = {("org/ds", f"d/{i:03d}.parquet"): parquet_bytes([f"t{i}"], 1) for i in range(7)}
    hub.files[("org/ds", "d/sub/deeper.parquet")] = parquet_bytes(["x"], 1)  # a folder: not listed
    hub.files[("org/ds", "d/README.md")] = b"# not data"
    hub.page_size[0] = 2  # 9 entries: 5 pages
    kind, _, files = sources.resolve_source("en", _cfg("hf:org/ds:d"))
    assert files == [f"org/ds:d/{i:03d}.parquet" for i in range(7)]
    assert [t for t in sources.iter_documents(kind, files)] == [f"t{i}" for i in range(7)]


def test_hub_token_goes_to_the_hub_and_never_to_the_cdn(hub, monkeypatch):
    texts = _texts(50)
    hub.files = {("org/private", "d/x.parquet"): parquet_bytes(texts, 10)}
    hub.private = {"org/private"}
    # without a token: one line naming the dataset and the fix
    with pytest.raises(ConfigError, match=r"cannot list hf:org/private:d .*HTTP 401.*hf auth login"):
        sources.resolve_source("en", _cfg("hf:org/private:d"))
    monkeypatch.setenv("HF_TOKEN", hub.token)
    hub.auth_seen.clear()
    kind, _, files = sources.resolve_source("en", _cfg("hf:org/private:d"))
    # the CDN answers 400 to any request with an Authorization header, so reading proves it was dropped
    assert list(sources.iter_documents(kind, files)) == texts
    assert hub.auth_seen and all(a == f"Bearer {hub.token}" for a in hub.auth_seen)


def test_hub_token_from_the_login_file(hub, monkeypatch, tmp_path):
    from huggingface_hub import constants
    hub.files = {("org/private", "d/x.jsonl"): b'{"text": "secret"}\n'}
    hub.private = {"org/private"}
    (tmp_path / "token").write_text(hub.token)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    kind, _, files = sources.resolve_source("en", _cfg("hf:org/private:d"))
    assert list(sources.iter_documents(kind, files)) == ["secret"]


def test_hub_missing_things_are_one_line(hub):
    hub.files = {("org/ds", "d/x.jsonl"): b'{"text": "a"}\n'}
    with pytest.raises(ConfigError, match=r"cannot list hf:org/nope:d .*HTTP 404.*check the name"):
        sources.resolve_source("en", _cfg("hf:org/nope:d"))
    with pytest.raises(ConfigError, match="holds no .parquet/.jsonl files"):
        sources.resolve_source("en", _cfg("hf:org/ds:empty"))
    with pytest.raises(ConfigError, match=r"cannot read org/ds:d/gone.jsonl .*HTTP 404"):
        list(sources.iter_records("hf", ["org/ds:d/gone.jsonl"]))


def test_hub_offline_and_unreachable_fail_at_once(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE is set; without network, use local files: `make quickstart DATA=dir`"):
        sources.resolve_source("en", _cfg("hf:org/x:y"))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    t0 = time.time()
    with pytest.raises(ConfigError, match="languages: cannot reach the Hugging Face Hub at http://127.0.0.1:9 .*make quickstart DATA=dir"):
        sources.resolve_source("en", _cfg("hf:org/x:y"))
    assert time.time() - t0 < 2


def test_quickstart_data_without_network_is_one_line_in_seconds(tmp_path):
    """The quickstart's data step with no Hub: exit 2 and one line saying what to do, quickly."""
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:9")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    t0 = time.time()
    r = subprocess.run([sys.executable, os.path.join(root, "data.py"), "prepare", os.path.join(root, "config/quickstart/data.py"),
                        f"--data_dir={tmp_path / 'd'}"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    took = time.time() - t0
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "make quickstart DATA=dir" in r.stderr and took < 10
    assert not os.path.exists(tmp_path / "d")


def test_jsonl_text_must_be_a_string(tmp_path):
    (tmp_path / "en.jsonl").write_text('{"text": "fine"}\n{"text": 42}\n')
    with pytest.raises(ConfigError, match=r"record 2: 'text' is int, not a string"):
        list(sources.iter_records("local", [str(tmp_path / "en.jsonl")]))
