"""
Where documents come from: local files (.txt .jsonl .jsonl.gz .parquet, field "text") or a
Hugging Face Hub dataset. `block_shuffled` puts them in a seeded order whose prefixes never
depend on how much is read.

The Hub goes through huggingface_hub, which knows its protocol: the token wherever the Hub's
own tools find it (HF_TOKEN, `hf auth login`), sent to the Hub only (its HTTP client drops it
on a redirect to another host, such as the CDN that serves the files), the tree listing's
pagination, retries with back-off, HF_ENDPOINT and HF_HUB_OFFLINE. What is ours is reading a
file by HTTP ranges, so pyarrow fetches a parquet file's footer and only the row groups it reads.
huggingface_hub's HfFileSystem reads by ranges too, but is not as good here: it resolves each
file with two more API calls (the revision, then paths-info) before the first byte, hands back
a short body without noticing, and its failures are tracebacks; HubFile (one range GET per read
through huggingface_hub's http_backoff, each length-checked) stays, about 50 lines.
"""
import gzip
import io
import json
import os
import random
import socket
import textwrap
import urllib.parse

from scalex.configurator import ConfigError

TEXT_EXTS = (".jsonl.gz", ".jsonl", ".txt", ".parquet", ".json.gz", ".json", ".tsv")
HUB_RETRIES, HUB_BACKOFF_S = 6, 1.0  # a dropped or failed read is retried, waiting 1, 2, 4, 8, 8... s
NO_HUB = "without network, use local files: `make quickstart DATA=dir` (dir/en.jsonl.gz, dir/zh.jsonl.gz) or local_dir=dir"


# ----------------------------------------------------------------------------- the Hub
def hub_endpoint():
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _check_hub(spec):
    """Fail at once, in one line, when the Hub cannot be used: offline mode, or no route to
    it (one connection attempt, not a minute of retries). A malformed spec is named first."""
    repo = spec[3:].split(":", 1)[0] if spec.startswith("hf:") else ""
    if len(repo.split("/")) != 2 or not all(repo.split("/")):
        raise ConfigError(f"languages: {spec!r} is not a Hub source; write hf:OWNER/NAME:PATH (e.g. hf:HuggingFaceFW/fineweb-edu:sample/10BT)")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE"):
        raise ConfigError(f"languages: {spec} is on the Hub, and HF_HUB_OFFLINE is set; {NO_HUB}")
    url = urllib.parse.urlsplit(hub_endpoint())
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=5).close()
    except OSError as e:
        raise ConfigError(f"languages: cannot reach the Hugging Face Hub at {hub_endpoint()} for {spec} "
                          f"({type(e).__name__}: {e}); {NO_HUB}") from None


def _hub_error(e, what):
    """A failed Hub request as one line: what was asked, what the Hub said, the fix."""
    status = getattr(getattr(e, "response", None), "status_code", None)
    if status in (401, 403):
        fix = "it is private or gated: log in (`hf auth login`, or HF_TOKEN) with an account that has access"
    elif status == 404:
        fix = "no such dataset, path or revision: check the name, the path and hf_revision"
    elif status is None:
        fix = NO_HUB
    else:
        fix = "the Hub failed; try again later, or use local files"
    return ConfigError(f"languages: {what} ({f'HTTP {status}' if status else type(e).__name__}); {fix}")


def hub_list(repo, path, revision):
    """Data files directly under `path` of a Hub dataset, sorted (the tree API, every page)."""
    from huggingface_hub import HfApi
    spec = f"hf:{repo}:{path}"
    _check_hub(spec)
    try:
        entries = list(HfApi(endpoint=hub_endpoint()).list_repo_tree(
            repo, path_in_repo=path or None, repo_type="dataset", revision=revision, recursive=False))
    except Exception as e:  # huggingface_hub's HTTP errors, the client's network errors, a bad repo id
        if isinstance(e, ValueError) and not hasattr(e, "response"):
            raise ConfigError(f"languages: {spec}: {str(e).splitlines()[0]}") from None
        raise _hub_error(e, f"cannot list {spec} at revision {revision}") from None
    files = sorted(e.path for e in entries if hasattr(e, "size") and e.path.endswith(TEXT_EXTS))
    if not files:
        raise ConfigError(f"languages: {spec} holds no .parquet/.jsonl files")
    return files


class HubFile(io.RawIOBase):
    """A seekable read-only file over HTTP range requests, each retried with back-off by
    huggingface_hub (a dropped connection, a 429 or 5xx): pyarrow fetches a parquet file's
    footer and only the row groups it reads; a jsonl file streams through a BufferedReader."""

    def __init__(self, repo, path, revision):
        from huggingface_hub import hf_hub_url
        self.name, self.pos, self.bytes_read = f"{repo}:{path}", 0, 0
        self.url = hf_hub_url(repo, path, repo_type="dataset", revision=revision, endpoint=hub_endpoint())
        r = self._get(0, 0)
        crange = r.headers.get("Content-Range", "")
        self.size = int(crange.split("/")[-1]) if "/" in crange else len(r.content)

    def _get(self, a, b):
        from huggingface_hub import utils
        try:
            r = utils.http_backoff("GET", self.url, headers={**utils.build_hf_headers(), "Range": f"bytes={a}-{b}"},
                                   max_retries=HUB_RETRIES, base_wait_time=HUB_BACKOFF_S, max_wait_time=8 * HUB_BACKOFF_S, timeout=60)
            utils.hf_raise_for_status(r)
        except Exception as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            if status in (401, 403, 404):
                raise _hub_error(e, f"cannot read {self.name}") from None
            raise OSError(f"{self.name}: connection kept dropping at byte {a} ({type(e).__name__}: {textwrap.shorten(str(e), 100, placeholder=' ...')})") from None
        return r

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
        if n <= 0:
            return 0
        r = self._get(self.pos, self.pos + n - 1)
        body = r.content if r.status_code == 206 else r.content[self.pos:self.pos + n]  # 200: a server without ranges
        if len(body) != n:
            raise OSError(f"{self.name}: connection kept dropping at byte {self.pos} (got {len(body)} of {n} bytes)")
        buf[:n] = body
        self.pos += n
        self.bytes_read += n
        return n


# ----------------------------------------------------------------------------- sources
def resolve_source(lang, cfg):
    """(kind, location, files) for a language: kind is 'local' or 'hf'. With local_dir, the
    file LOCAL_DIR/L.jsonl.gz, else the first of L.jsonl, L.txt, L.parquet (... TEXT_EXTS) that
    exists: chosen by name, never by sorting, so a stray en.bak.jsonl is not English text."""
    if cfg["local_dir"]:
        d = cfg["local_dir"]
        if not os.path.isdir(d):
            raise ConfigError(f"local_dir: '{d}' is not a folder")
        files = [os.path.join(d, lang + ext) for ext in TEXT_EXTS if os.path.isfile(os.path.join(d, lang + ext))][:1]
        if not files:
            raise ConfigError(f"local_dir: no file for language '{lang}' in {d} (expected {lang}.jsonl.gz, {lang}.jsonl, {lang}.txt or {lang}.parquet)")
        return "local", d, files
    return resolve_spec(cfg["languages"][lang], f"languages.{lang}", cfg["hf_revision"])


def resolve_spec(spec, field, revision="main"):
    """(kind, spec, files) of one source: a Hub dataset path (hf:OWNER/NAME:PATH), a local file,
    or a folder of them; `field` names the config key in errors."""
    if spec.startswith("hf:"):
        parts = spec[3:].split(":", 1)
        repo, path = parts[0], (parts[1] if len(parts) > 1 else "")
        return "hf", spec, [f"{repo}:{f}" for f in hub_list(repo, path, revision)]
    if os.path.isdir(spec):
        files = sorted(os.path.join(spec, f) for f in os.listdir(spec) if f.endswith(TEXT_EXTS))
    elif os.path.isfile(spec):
        files = [spec]
    else:
        raise ConfigError(f"{field}: no such file or folder '{spec}'")
    if not files:
        raise ConfigError(f"{field}: '{spec}' holds no .txt/.jsonl/.jsonl.gz/.parquet/.tsv file")
    return "local", spec, files


def _iter_records(name, fobj, state):
    """Texts of one file (None for an empty record), first skipping state["skip"] records
    (decremented in place, so a skip runs on into the next file); parquet skips whole row
    groups by their metadata, without reading them."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq
        import pyarrow.types as pa_types
        pf = pq.ParquetFile(fobj, pre_buffer=False)  # read row groups as they are asked for
        if "text" not in pf.schema_arrow.names:
            raise ConfigError(f"languages: {name} has no 'text' column")
        kind = pf.schema_arrow.field("text").type
        if not (pa_types.is_string(kind) or pa_types.is_large_string(kind) or pa_types.is_null(kind)):
            raise ConfigError(f"languages: {name}: its 'text' column holds {kind}, not strings; fix the file")
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
    text._CHUNK_SIZE = 1 << 20  # its default 8 KiB would be one HTTP range request per 8 KiB of a Hub file
    if name.endswith(".txt"):  # documents are separated by blank lines
        docs = _paragraphs(text)
    elif name.endswith(".tsv"):  # aligned text: id, ..., text per line; a document per id prefix
        docs = _tsv_documents(text)
    else:
        docs = (line for line in text if line.strip())
    for i, rec in enumerate(docs):
        if state["skip"]:
            state["skip"] -= 1
            continue
        if name.endswith((".txt", ".tsv")):
            yield rec or None
            continue
        rec = json.loads(rec)
        if not isinstance(rec, dict) or "text" not in rec:
            raise ConfigError(f"languages: {name} record {i + 1} has no 'text' field")
        if rec["text"] is not None and not isinstance(rec["text"], str):
            raise ConfigError(f"languages: {name} record {i + 1}: 'text' is {type(rec['text']).__name__}, not a string; fix the file")
        yield rec["text"] or None


def _tsv_documents(lines):
    """A .tsv of aligned text (a parallel corpus: `id<TAB>...<TAB>text`): the last field of each
    line, consecutive lines whose ids share the part before the last '.' (a chapter of verses
    01.1.1, 01.1.2, ...) joined into one document, so documents are not single sentences."""
    doc, key = [], None
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 2 or not fields[-1].strip():
            continue
        k = fields[0].rpartition(".")[0] or fields[0]
        if doc and k != key:
            yield "\n".join(doc)
            doc = []
        doc.append(fields[-1].strip())
        key = k
    if doc:
        yield "\n".join(doc)


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
        raw = HubFile(repo, path, revision)
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
                          f"({type(e).__name__}: {textwrap.shorten(str(e), 120, placeholder=' ...')}); remove or replace it") from None


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
