"""
Text -> tokens -> shards, and the language sampler that reads them.

    python data.py prepare config/quickstart/data.py [--key=value ...]

reads each language's documents (local files or a Hugging Face Hub dataset, streamed),
trains one byte-level BPE on a language-balanced sample, and writes per language
`train.bin` / `val.bin` token shards plus `manifest.json` into `data_dir`.
Running it again with the same config does nothing; a different config in the same
`data_dir` is refused, naming the field that changed.

The shards are read by `Sampler`, which train.py drives with the run's language plan.
This file is also home to the one config mechanism every script uses (`load_config`).
"""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import time
import urllib.error
import urllib.request

import numpy as np

# -----------------------------------------------------------------------------
# defaults for a data config (config/<scale>/data.py overrides them)
data_dir = "data/quickstart"
# language -> source. "hf:OWNER/NAME:PATH" streams the parquet/jsonl files under PATH of a Hub
# dataset; anything else is a local file or folder (.txt .jsonl .jsonl.gz .parquet, field "text").
languages = {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT",
             "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"}
local_dir = ""            # if set, language L reads the file(s) LOCAL_DIR/L.* instead of its source
max_tokens = {"en": 8_000_000, "zh": 1_000_000}  # train tokens to prepare; runs use prefixes
val_tokens = 100_000      # per language, taken from the front of the document order
vocab_size = 4096         # BPE ranks + the end-of-text token
tokenizer_sample_bytes = 2_000_000  # per language: the BPE sees every language equally
shuffle_buffer = 10_000   # documents; a seeded buffer shuffle is prefix-stable (see shuffled())
seed = 1337
hf_revision = "main"
DEFAULTS = {k: v for k, v in globals().items() if not k.startswith("_") and k.islower()
            and isinstance(v, (int, float, str, dict, list, bool))}
# -----------------------------------------------------------------------------

EOT = "<|endoftext|>"
# GPT-4-style split, written without possessive quantifiers so HF tokenizers' regex engine
# (used to train) and tiktoken's (used to encode) split text the same way.
SPLIT_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
                 r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
SHARD_MAGIC, SHARD_VERSION, HEADER_BYTES = b"SCALEXTK", 1, 256
TEXT_EXTS = (".jsonl.gz", ".jsonl", ".txt", ".parquet", ".json.gz", ".json")


# ----------------------------------------------------------------------------- config
class ConfigError(Exception):
    """Bad input: reported as one line naming the field, exit code 2, before any compute."""


def fail(err):
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    """Split `CONFIG --key=value --flag` into (positionals, overrides). Values are Python
    literals when they parse as one (numbers, dicts, True), strings otherwise."""
    import ast
    pos, over = [], {}
    for a in argv:
        if not a.startswith("--"):
            pos.append(a)
            continue
        key, eq, val = a[2:].partition("=")
        if not eq:
            over[key] = True
            continue
        try:
            over[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            over[key] = val
    return pos, over


class _ConfigNamespace(dict):
    """The namespace a config file runs in. An assignment to a key the command line overrides
    takes the override instead, so values the file derives from it follow: with
    `--budget.en=8000000`, a stage written as `{"en": budget["en"] - ...}` sees 8M.
    (exec() stores module-level names through __setitem__ when the namespace is not a plain dict.)"""

    def __init__(self, overrides):
        super().__init__()
        self._over = overrides

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, _apply_overrides(key, value, self._over))


def _apply_overrides(key, value, overrides):
    for path, v in overrides.items():
        head, _, rest = path.partition(".")
        if head != key:
            continue
        if not rest:
            value = v
            continue
        value = json.loads(json.dumps(value))  # a copy: the file's literal is not shared
        node = value
        parts = rest.split(".")
        for p in parts[:-1]:
            if not isinstance(node, dict) or p not in node:
                raise ConfigError(f"--{path}: '{key}' has no entry '{p}'")
            node = node[p]
        if not isinstance(node, dict):
            raise ConfigError(f"--{path}: '{key}' is not a dict; set it whole with --{key}=...")
        node[parts[-1]] = v
    return value


def _exec_file(path, ns):
    """Run one config file; its include("x.py") runs x.py (relative to this file) in place."""
    if not os.path.isfile(path):
        raise ConfigError(f"config: no such file '{path}'")
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    outer = ns.get("include")
    dict.__setitem__(ns, "include", lambda p: _exec_file(os.path.join(os.path.dirname(path), p), ns))
    exec(code, ns)
    dict.__setitem__(ns, "include", outer)


def load_config(path, overrides, defaults):
    """Defaults, then the config file (which may include("other.py") beside it), then
    --key=value overrides. Any key not in `defaults` is an error; names starting with _ are
    the file's own helpers."""
    ns = _ConfigNamespace(overrides)
    for k, v in defaults.items():
        ns[k] = json.loads(json.dumps(v))
    if path:
        _exec_file(path, ns)
    for k in overrides:
        head = k.split(".")[0]
        if head not in defaults:
            raise ConfigError(f"--{k}: unknown config key '{head}'; known keys: {', '.join(sorted(defaults))}")
        ns[head] = ns[head]  # defaults the file never assigned still take their overrides
    cfg = {}
    for k, v in ns.items():
        if k.startswith("_") or k in ("include", "__builtins__") or callable(v) or type(v).__name__ == "module":
            continue
        if k not in defaults:
            raise ConfigError(f"{k}: unknown config key in {path}; known keys: {', '.join(sorted(defaults))}")
        cfg[k] = v
    return cfg


def sha256_file(path, chunk=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def atomic_write(path, write_fn, mode="wb"):
    """Write through a temp file and rename: a reader sees the old file or the whole new one,
    never a torn one, whatever kills us in between."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, mode) as f:
        write_fn(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- sources
def hub_endpoint():
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _hub_request(url, headers=None):
    headers = dict(headers or {})
    if os.environ.get("HF_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['HF_TOKEN']}"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)


def hub_list(repo, path, revision):
    """Data files under `path` of a Hub dataset, sorted, via the Hub's tree API."""
    url = f"{hub_endpoint()}/api/datasets/{repo}/tree/{revision}/{path}".rstrip("/")
    try:
        with _hub_request(url) as r:
            entries = json.load(r)
    except urllib.error.URLError as e:
        raise ConfigError(f"languages: cannot list hf:{repo}:{path} at {url} ({e}); "
                          f"check the name, or use local files (local_dir=...)") from None
    files = sorted(e["path"] for e in entries if e.get("type") == "file" and e["path"].endswith(TEXT_EXTS))
    if not files:
        raise ConfigError(f"languages: hf:{repo}:{path} holds no .parquet/.jsonl files")
    return files


class HubFile(io.RawIOBase):
    """A seekable read-only file over HTTP range requests, so pyarrow fetches a parquet file's
    footer and only the row groups we read, not the whole (often GB-sized) file."""

    def __init__(self, url):
        self.url, self.pos = url, 0
        with _hub_request(url, {"Range": "bytes=0-0"}) as r:
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
        if n <= 0:
            return 0
        with _hub_request(self.url, {"Range": f"bytes={self.pos}-{self.pos + n - 1}"}) as r:
            data = r.read()
        buf[:len(data)] = data
        self.pos += len(data)
        return len(data)


def _iter_records(name, fobj):
    """Texts in one file object whose format follows its name."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq
        pf = pq.ParquetFile(fobj, pre_buffer=False)  # read row groups as they are asked for
        if "text" not in pf.schema_arrow.names:
            raise ConfigError(f"languages: {name} has no 'text' column")
        for batch in pf.iter_batches(batch_size=256, columns=["text"]):
            yield from (t for t in batch.column(0).to_pylist() if t)
        return
    if name.endswith(".gz"):
        fobj = gzip.open(fobj)
    text = io.TextIOWrapper(fobj, encoding="utf-8")
    if name.endswith(".txt"):  # documents are separated by blank lines
        doc = []
        for line in text:
            if line.strip():
                doc.append(line)
            elif doc:
                yield "".join(doc).rstrip("\n")
                doc = []
        if doc:
            yield "".join(doc).rstrip("\n")
        return
    for i, line in enumerate(text):
        if line.strip():
            rec = json.loads(line)
            if "text" not in rec:
                raise ConfigError(f"languages: {name} line {i + 1} has no 'text' field")
            if rec["text"]:
                yield rec["text"]


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


def iter_documents(kind, files, revision="main"):
    """Every document of the source, in file order; reads lazily, so a consumer that stops
    early fetches only what it used."""
    for f in files:
        if kind == "local":
            with open(f, "rb") as fobj:
                yield from _iter_records(f, fobj)
            continue
        repo, path = f.split(":", 1)
        url = f"{hub_endpoint()}/datasets/{repo}/resolve/{revision}/{path}"
        if path.endswith(".parquet"):
            yield from _iter_records(path, io.BufferedReader(HubFile(url), buffer_size=1 << 20))
        else:
            with _hub_request(url) as r:
                yield from _iter_records(path, r)


def shuffled(docs, buffer, seed):
    """Seeded buffer shuffle. Its output order depends only on the input order and the seed,
    never on how much is read, so the first N tokens of a bigger preparation are the first N
    of a smaller one: budgets nest (the 4x set contains the 2x set)."""
    rng, buf = random.Random(seed), []
    for d in docs:
        buf.append(d)
        if len(buf) >= buffer:
            i = rng.randrange(len(buf))
            buf[i], buf[-1] = buf[-1], buf[i]
            yield buf.pop()
    rng.shuffle(buf)
    yield from buf


# ----------------------------------------------------------------------------- tokenizer
def _byte_decoder():
    """Inverse of GPT-2's bytes->printable-unicode map, which HF's ByteLevel BPE writes tokens in."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def train_bpe(texts, vocab_size):
    """Byte-level BPE ranks {token bytes: rank}, 256 single bytes included, len = vocab_size-1
    (the last id is the end-of-text token). HF tokenizers trains (fast, in Rust); the merges
    order becomes tiktoken's ranks, so tiktoken encodes with the same merges."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(texts, trainer)
    dec = _byte_decoder()
    ranks = {}
    for s, i in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]):
        ranks.setdefault(bytes(dec[c] for c in s), len(ranks))
    assert all(bytes([b]) in ranks for b in range(256)), "BPE lost a single byte"
    return ranks


def save_ranks(path, ranks):
    """tiktoken's rank-file format: base64(token) rank, one a line."""
    lines = "".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in sorted(ranks.items(), key=lambda kv: kv[1]))
    atomic_write(path, lambda f: f.write(lines), mode="w")


def load_tokenizer(path):
    """tiktoken.Encoding from a rank file; its name carries the file's hash."""
    import tiktoken
    ranks = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    return tiktoken.Encoding(name=f"scalex-{sha256_file(path)[:12]}", pat_str=SPLIT_PATTERN,
                             mergeable_ranks=ranks, special_tokens={EOT: len(ranks)})


def token_byte_lengths(enc):
    """UTF-8 bytes each token id stands for (end-of-text: 0), for bits-per-byte."""
    n = np.zeros(enc.n_vocab, dtype=np.int64)
    for i in range(enc.n_vocab - 1):
        n[i] = len(enc.decode_single_token_bytes(i))
    return n


# ----------------------------------------------------------------------------- shards
def write_shard(path, tokens, vocab, tok_hash):
    """Header (magic, version, itemsize, vocab, count, tokenizer sha256) then the tokens."""
    dtype = np.uint16 if vocab <= 1 << 16 else np.uint32
    tokens = np.asarray(tokens, dtype=dtype)
    header = struct.pack("<8sIIIQ64s", SHARD_MAGIC, SHARD_VERSION, tokens.itemsize, vocab, len(tokens), tok_hash.encode())
    atomic_write(path, lambda f: (f.write(header.ljust(HEADER_BYTES, b"\0")), f.write(tokens.tobytes())))


def read_shard(path, tok_hash=None):
    """Memory-mapped tokens; refuses a shard that is torn, foreign or from another tokenizer."""
    if not os.path.isfile(path):
        raise ConfigError(f"data_dir: missing shard {path}; run `python data.py prepare CONFIG`")
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    try:
        magic, version, itemsize, vocab, count, h = struct.unpack("<8sIIIQ64s", head[:92])
    except struct.error:
        raise ConfigError(f"data_dir: {path} is not a scalex shard (too short); prepare the data again") from None
    if magic != SHARD_MAGIC or version != SHARD_VERSION or itemsize not in (2, 4):
        raise ConfigError(f"data_dir: {path} has a bad header (magic/version); prepare the data again")
    if os.path.getsize(path) != HEADER_BYTES + count * itemsize:
        raise ConfigError(f"data_dir: {path} holds {os.path.getsize(path)} bytes, header says {count} tokens; prepare the data again")
    if tok_hash is not None and h.decode() != tok_hash:
        raise ConfigError(f"data_dir: {path} was made by another tokenizer (hash {h.decode()[:12]}, manifest {tok_hash[:12]}); prepare the data again")
    dtype = np.uint16 if itemsize == 2 else np.uint32
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER_BYTES, shape=(count,))


def load_manifest(dir_):
    path = os.path.join(dir_, "manifest.json")
    if not os.path.isfile(path):
        raise ConfigError(f"data_dir: '{dir_}' is not prepared; run `python data.py prepare config/<scale>/data.py` first")
    with open(path) as f:
        m = json.load(f)
    m["sha256"] = sha256_file(path)
    return m


# ----------------------------------------------------------------------------- prepare
def validate_data_config(cfg):
    if not isinstance(cfg["languages"], dict) or not cfg["languages"]:
        raise ConfigError("languages: give a dict {language: source}")
    for lang in cfg["languages"]:
        if not lang.isidentifier():
            raise ConfigError(f"languages: '{lang}' is not a valid language name (letters, digits, _)")
    if set(cfg["max_tokens"]) != set(cfg["languages"]):
        raise ConfigError(f"max_tokens: give one entry per language {sorted(cfg['languages'])}, got {sorted(cfg['max_tokens'])}")
    for k in ("val_tokens", "tokenizer_sample_bytes", "shuffle_buffer", "vocab_size"):
        if not isinstance(cfg[k], int) or cfg[k] <= 0:
            raise ConfigError(f"{k}: must be a positive integer, got {cfg[k]!r}")
    for lang, n in cfg["max_tokens"].items():
        if not isinstance(n, int) or n <= 0:
            raise ConfigError(f"max_tokens.{lang}: must be a positive integer, got {n!r}")
    if cfg["vocab_size"] < 257 + 1:
        raise ConfigError(f"vocab_size: must exceed 257 (256 bytes + end-of-text), got {cfg['vocab_size']}")


def _split_stream(cfg, lang, kind, files):
    """(val candidates, train doc iterator) for one language: the first documents of the
    shuffled order are validation, the rest (minus exact copies of a val document) train.
    The split is made by bytes so it needs no tokenizer yet: no byte-level BPE we use packs
    more than 8 bytes in a token on average, so 8 bytes per wanted token always suffice, and
    prepare() keeps whole documents until val_tokens is reached."""
    docs = shuffled(iter_documents(kind, files, cfg["hf_revision"]), cfg["shuffle_buffer"], cfg["seed"])
    val, val_bytes = [], 0
    for d in docs:
        val.append(d)
        val_bytes += len(d.encode())
        if val_bytes >= 8 * cfg["val_tokens"]:
            break
    val_hashes = {hashlib.sha1(d.encode()).digest() for d in val}
    train = (d for d in docs if hashlib.sha1(d.encode()).digest() not in val_hashes)
    return val, train


def _encode_docs(enc, docs):
    eot = enc.eot_token
    return [t for ids in enc.encode_ordinary_batch(docs, num_threads=os.cpu_count() or 1) for t in ids + [eot]]


def prepare(cfg, log=print):
    """Build (or confirm) data_dir for a data config; returns the manifest."""
    validate_data_config(cfg)
    d = cfg["data_dir"]
    mpath = os.path.join(d, "manifest.json")
    if os.path.isfile(mpath):
        m = load_manifest(d)
        changed = [k for k in DEFAULTS if k != "data_dir" and m["config"].get(k) != cfg[k]]
        if changed:
            k = changed[0]
            raise ConfigError(f"{k}: {d} was prepared with {k}={m['config'].get(k)!r}, not {cfg[k]!r}; "
                              f"choose another data_dir or delete {d}")
        for lang in cfg["languages"]:
            for split in ("train", "val"):
                read_shard(os.path.join(d, lang, f"{split}.bin"), m["tokenizer"]["sha256"])
        log(f"{d}: up to date (manifest {m['sha256'][:12]}), nothing to do")
        return m
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    langs = list(cfg["languages"])
    sources = {lang: resolve_source(lang, cfg) for lang in langs}

    # 1. tokenizer on an equal byte sample of each language's train documents
    tok_path = os.path.join(d, "tokenizer.tiktoken")
    sample = []
    for lang in langs:
        kind, _, files = sources[lang]
        _, train = _split_stream(cfg, lang, kind, files)
        n = 0
        for doc in train:
            sample.append(doc)
            n += len(doc.encode())
            if n >= cfg["tokenizer_sample_bytes"]:
                break
    log(f"training BPE (vocab {cfg['vocab_size']}) on {sum(len(s.encode()) for s in sample) / 1e6:.1f} MB, "
        f"{cfg['tokenizer_sample_bytes'] / 1e6:.1f} MB per language")
    save_ranks(tok_path, train_bpe(sample, cfg["vocab_size"]))
    enc = load_tokenizer(tok_path)
    tok_hash = sha256_file(tok_path)
    assert enc.n_vocab == cfg["vocab_size"] or enc.n_vocab < cfg["vocab_size"], enc.n_vocab

    # 2. per language: val then train shards, tokenized in batches of documents
    from tqdm import tqdm
    man = {"version": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "config": cfg,
           "tokenizer": {"file": "tokenizer.tiktoken", "sha256": tok_hash, "vocab_size": enc.n_vocab,
                         "eot": enc.eot_token, "sample_bytes_per_language": cfg["tokenizer_sample_bytes"]},
           "languages": {}}
    for lang in langs:
        kind, where, files = sources[lang]
        val_docs, train = _split_stream(cfg, lang, kind, files)
        val_tok, val_bytes, n_val = [], 0, 0
        for doc in val_docs:  # whole documents until val_tokens is reached
            if len(val_tok) >= cfg["val_tokens"]:
                break
            val_tok += _encode_docs(enc, [doc])
            val_bytes += len(doc.encode())
            n_val += 1
        if len(val_tok) < cfg["val_tokens"]:
            raise ConfigError(f"val_tokens: language '{lang}' has only {len(val_tok)} tokens for validation; lower val_tokens")
        want = cfg["max_tokens"][lang]
        buf, n_docs, n_bytes = [], 0, 0
        bar = tqdm(total=want, unit="tok", unit_scale=True, desc=f"{lang} train", leave=False, disable=None)
        batch = []
        for doc in train:
            batch.append(doc)
            if len(batch) == 256:
                ids = _encode_docs(enc, batch)
                buf += ids
                n_docs += len(batch)
                n_bytes += sum(len(x.encode()) for x in batch)
                bar.update(len(ids))
                batch = []
                if len(buf) >= want:
                    break
        if batch and len(buf) < want:
            buf += _encode_docs(enc, batch)
            n_docs += len(batch)
            n_bytes += sum(len(x.encode()) for x in batch)
        bar.close()
        if len(buf) < want:
            raise ConfigError(f"max_tokens.{lang}: the source holds only {len(buf)} train tokens; lower it to at most that")
        train_tok = np.array(buf[:want])
        os.makedirs(os.path.join(d, lang), exist_ok=True)
        write_shard(os.path.join(d, lang, "train.bin"), train_tok, enc.n_vocab, tok_hash)
        write_shard(os.path.join(d, lang, "val.bin"), np.array(val_tok), enc.n_vocab, tok_hash)
        man["languages"][lang] = {
            "source": where, "kind": kind, "files_read": files if kind == "local" else None,
            "train": {"docs": n_docs, "tokens": want, "bytes_read": n_bytes,
                      "sha256": sha256_file(os.path.join(d, lang, "train.bin"))},
            "val": {"docs": n_val, "tokens": len(val_tok), "bytes": val_bytes,
                    "sha256": sha256_file(os.path.join(d, lang, "val.bin"))}}
        log(f"{lang}: {want:,} train tokens ({n_docs:,} docs), {len(val_tok):,} val tokens ({n_val} docs, "
            f"{val_bytes:,} bytes), {n_bytes / len(buf):.2f} bytes/token")
    man["prepare_s"] = round(time.time() - t0, 1)
    atomic_write(mpath, lambda f: json.dump(man, f, indent=1), mode="w")  # last: marks the dir complete
    return load_manifest(d)


# ----------------------------------------------------------------------------- sampler
class Sampler:
    """Deterministic language interleaving over token windows.

    `stages` is a list of {language: number of sequences}. Within a stage, each next sequence
    comes from the language furthest behind its target share (largest deficit; ties in
    language order), so the running mix tracks the target to within one sequence, with no
    randomness (as Megatron-LM's blended dataset). Each language reads non-overlapping windows
    of block_size+1 tokens of its budget through a cursor over a seeded permutation; past the
    last window a new epoch starts with a new permutation. The cursors carry over between
    stages, so a language split over two stages sees new data in the second.
    The whole state is a few integers (state_dict), which is what makes resume exact."""

    def __init__(self, streams, stages, block_size, seed):
        self.streams, self.stages, self.block, self.seed = streams, stages, block_size, seed
        self.langs = list(streams)
        self.n_windows = {lang: (len(s) - 1) // block_size for lang, s in streams.items()}
        for lang, n in self.n_windows.items():
            if n < 1:
                raise ConfigError(f"budget.{lang}: {len(streams[lang])} tokens hold no window of block_size+1={block_size + 1}")
        self.state = {"stage": 0, "in_stage": {lang: 0 for lang in self.langs},
                      "cursor": {lang: 0 for lang in self.langs}, "epoch": {lang: 0 for lang in self.langs}}
        self._perm = {}

    def state_dict(self):
        return json.loads(json.dumps(self.state))

    def load_state_dict(self, s):
        self.state = json.loads(json.dumps(s))

    def _permutation(self, lang):
        key = (lang, self.state["epoch"][lang])
        if key not in self._perm:
            self._perm = {k: v for k, v in self._perm.items() if k[0] != lang}
            seed = [self.seed, self.langs.index(lang), key[1]]
            self._perm[key] = np.random.default_rng(seed).permutation(self.n_windows[lang])
        return self._perm[key]

    def _pick(self):
        st = self.state
        while st["stage"] < len(self.stages):
            target = self.stages[st["stage"]]
            done = sum(st["in_stage"].values())
            total = sum(target.values())
            if done < total:
                best, best_def = None, None
                for lang in self.langs:
                    want = target.get(lang, 0)
                    if st["in_stage"][lang] >= want:
                        continue
                    deficit = want / total * (done + 1) - st["in_stage"][lang]
                    if best_def is None or deficit > best_def:
                        best, best_def = lang, deficit
                return best
            st["stage"] += 1
            st["in_stage"] = {lang: 0 for lang in self.langs}
        raise StopIteration("the plan is exhausted")

    def next_sequences(self, n):
        """The next n (language, window, epoch) picks of the global order."""
        out, st = [], self.state
        for _ in range(n):
            lang = self._pick()
            if st["cursor"][lang] == self.n_windows[lang]:
                st["epoch"][lang] += 1
                st["cursor"][lang] = 0
            w = int(self._permutation(lang)[st["cursor"][lang]])
            out.append((lang, w, st["epoch"][lang]))
            st["cursor"][lang] += 1
            st["in_stage"][lang] += 1
        return out

    def tokens(self, picks):
        """(B, block_size+1) int64 array for a list of picks."""
        b = self.block
        return np.stack([np.asarray(self.streams[lang][w * b: w * b + b + 1], dtype=np.int64) for lang, w, _ in picks])


# ----------------------------------------------------------------------------- CLI
def main(argv):
    pos, over = parse_args(argv)
    if len(pos) != 2 or pos[0] not in ("prepare",):
        print("usage: python data.py prepare CONFIG [--key=value ...]", file=sys.stderr)
        return 2
    try:
        cfg = load_config(pos[1], over, DEFAULTS)
        prepare(cfg)
    except ConfigError as e:
        fail(e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
