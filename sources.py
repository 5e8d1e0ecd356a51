"""
Where documents come from: local files (.txt .jsonl .jsonl.gz .parquet, field "text") or a
Hugging Face Hub dataset, streamed by HTTP range requests (parquet row groups are fetched
only when read) with retries and back-off, a dropped connection resumed from the last byte.
`block_shuffled` puts them in a seeded order whose prefixes never depend on how much is read.
"""
import gzip
import http.client
import io
import json
import os
import random
import time
import urllib.error
import urllib.request

from configurator import ConfigError

TEXT_EXTS = (".jsonl.gz", ".jsonl", ".txt", ".parquet", ".json.gz", ".json")
HUB_RETRIES, HUB_BACKOFF_S = 6, 1.0  # a dropped or failed request is retried, waiting 1, 2, 4... s


# ----------------------------------------------------------------------------- the Hub
def hub_endpoint():
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


_TRANSIENT = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException, OSError)


def _hub_open(url, headers=None):
    """urlopen with retries and exponential back-off on network errors, 429 and 5xx."""
    headers = dict(headers or {})
    if os.environ.get("HF_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['HF_TOKEN']}"
    for attempt in range(HUB_RETRIES + 1):
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
        except urllib.error.HTTPError as e:
            if e.code != 429 and e.code < 500 or attempt == HUB_RETRIES:
                raise
        except _TRANSIENT:
            if attempt == HUB_RETRIES:
                raise
        time.sleep(HUB_BACKOFF_S * 2 ** attempt)


def hub_list(repo, path, revision):
    """Data files under `path` of a Hub dataset, sorted, via the Hub's tree API."""
    url = f"{hub_endpoint()}/api/datasets/{repo}/tree/{revision}/{path}".rstrip("/")
    try:
        with _hub_open(url) as r:
            entries = json.load(r)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ConfigError(f"languages: cannot list hf:{repo}:{path} at {url} ({e}); "
                          f"check the name, or use local files (local_dir=...)") from None
    files = sorted(e["path"] for e in entries if e.get("type") == "file" and e["path"].endswith(TEXT_EXTS))
    if not files:
        raise ConfigError(f"languages: hf:{repo}:{path} holds no .parquet/.jsonl files")
    return files


class HubFile(io.RawIOBase):
    """A seekable read-only file over HTTP range requests: pyarrow fetches a parquet file's
    footer and only the row groups it reads; a jsonl file streams through a BufferedReader.
    A connection dropped mid-range is resumed from the last byte received."""

    def __init__(self, url):
        self.url, self.pos, self.bytes_read = url, 0, 0
        with _hub_open(url, {"Range": "bytes=0-0"}) as r:
            crange = r.headers.get("Content-Range", "")
            self.size = int(crange.split("/")[-1]) if "/" in crange else int(r.headers["Content-Length"])

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buf):
        n = min(len(buf), self.size - self.pos)
        got = 0
        for attempt in range(HUB_RETRIES + 1):
            try:
                with _hub_open(self.url, {"Range": f"bytes={self.pos + got}-{self.pos + n - 1}"}) as r:
                    while got < n:
                        chunk = r.read(min(1 << 16, n - got))
                        if not chunk:
                            break
                        buf[got:got + len(chunk)] = chunk
                        got += len(chunk)
            except _TRANSIENT:
                pass
            if got >= n:
                break
            time.sleep(HUB_BACKOFF_S * 2 ** attempt)
        if got < n:
            raise OSError(f"{self.url}: connection kept dropping at byte {self.pos + got} of {self.size}")
        self.pos += got
        self.bytes_read += got
        return got


# ----------------------------------------------------------------------------- sources
def resolve_source(lang, cfg):
    """(kind, location, files) for a language: kind is 'local' or 'hf'."""
    if cfg["local_dir"]:
        d = cfg["local_dir"]
        if not os.path.isdir(d):
            raise ConfigError(f"local_dir: '{d}' is not a folder")
        files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(lang + ".") and f.endswith(TEXT_EXTS))
        if not files:
            raise ConfigError(f"local_dir: no file for language '{lang}' in {d} (expected {lang}.jsonl.gz, {lang}.jsonl, {lang}.txt or {lang}.parquet)")
        return "local", d, files
    spec = cfg["languages"][lang]
    if spec.startswith("hf:"):
        parts = spec[3:].split(":", 1)
        repo, path = parts[0], (parts[1] if len(parts) > 1 else "")
        return "hf", spec, [f"{repo}:{f}" for f in hub_list(repo, path, cfg["hf_revision"])]
    if os.path.isdir(spec):
        files = sorted(os.path.join(spec, f) for f in os.listdir(spec) if f.endswith(TEXT_EXTS))
    elif os.path.isfile(spec):
        files = [spec]
    else:
        raise ConfigError(f"languages.{lang}: no such file or folder '{spec}'")
    if not files:
        raise ConfigError(f"languages.{lang}: '{spec}' holds no .txt/.jsonl/.jsonl.gz/.parquet file")
    return "local", spec, files


def _iter_records(name, fobj, state):
    """Texts of one file (None for an empty record), first skipping state["skip"] records
    (decremented in place, so a skip runs on into the next file); parquet skips whole row
    groups by their metadata, without reading them."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq
        pf = pq.ParquetFile(fobj, pre_buffer=False)  # read row groups as they are asked for
        if "text" not in pf.schema_arrow.names:
            raise ConfigError(f"languages: {name} has no 'text' column")
        for g in range(pf.num_row_groups):
            rows = pf.metadata.row_group(g).num_rows
            if state["skip"] >= rows:
                state["skip"] -= rows
                continue
            texts = pf.read_row_group(g, columns=["text"]).column(0).to_pylist()[state["skip"]:]
            state["skip"] = 0
            yield from (t or None for t in texts)
        return
    if name.endswith(".gz"):
        fobj = gzip.open(fobj)
    text = io.TextIOWrapper(fobj, encoding="utf-8")
    if name.endswith(".txt"):  # documents are separated by blank lines
        docs = _paragraphs(text)
    else:
        docs = (line for line in text if line.strip())
    for i, rec in enumerate(docs):
        if state["skip"]:
            state["skip"] -= 1
            continue
        if name.endswith(".txt"):
            yield rec or None
            continue
        rec = json.loads(rec)
        if "text" not in rec:
            raise ConfigError(f"languages: {name} record {i + 1} has no 'text' field")
        yield rec["text"] or None


def _paragraphs(lines):
    doc = []
    for line in lines:
        if line.strip():
            doc.append(line)
        elif doc:
            yield "".join(doc).rstrip("\n")
            doc = []
    if doc:
        yield "".join(doc).rstrip("\n")


def iter_records(kind, files, revision="main", skip=0, counts=None):
    """Every record of the source in file order (None for an empty one), from record `skip`
    on; lazy, so a consumer that stops early fetches only what it used. `counts` gathers the
    bytes downloaded from the Hub."""
    state = {"skip": skip}
    for f in files:
        if kind == "local":
            with open(f, "rb") as fobj:
                yield from _guarded(_iter_records(f, fobj, state), f)
            continue
        repo, path = f.split(":", 1)
        raw = HubFile(f"{hub_endpoint()}/datasets/{repo}/resolve/{revision}/{path}")
        try:
            yield from _guarded(_iter_records(path, io.BufferedReader(raw, buffer_size=1 << 20), state), f)
        finally:
            if counts is not None:
                counts["bytes_downloaded"] = counts.get("bytes_downloaded", 0) + raw.bytes_read


def iter_documents(kind, files, revision="main"):
    """The non-empty texts of a source, in file order."""
    return (t for t in iter_records(kind, files, revision) if t)


def _guarded(records, name):
    """A file that is not what its name says is a clear error, not a traceback."""
    try:
        yield from records
    except ConfigError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as e:  # pyarrow, gzip, json errors
        if isinstance(e, OSError) and "connection kept dropping" in str(e):
            raise ConfigError(f"languages: {name}: the download failed after {HUB_RETRIES} retries ({e})") from None
        raise ConfigError(f"languages: {name} is corrupt or not in the format its name says "
                          f"({type(e).__name__}: {str(e)[:120]}); remove or replace it") from None


def block_shuffled(records, block, seed, start_block=0):
    """(block, offset, record) in a seeded order: each run of `block` records is permuted by
    its own seed. The order of any prefix never depends on how much more is read, so budgets
    nest (the 4x set starts with the 2x set), and a resume can restart at a block boundary."""
    buf, b = [], start_block
    for r in records:
        buf.append(r)
        if len(buf) == block:
            yield from _permuted(buf, seed, b)
            buf, b = [], b + 1
    if buf:
        yield from _permuted(buf, seed, b)


def _permuted(buf, seed, b):
    order = list(range(len(buf)))
    random.Random(seed * 1_000_003 + b).shuffle(order)
    for off, i in enumerate(order):
        yield b, off, buf[i]
