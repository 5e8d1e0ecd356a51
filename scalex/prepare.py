"""
Preparing a data dir: text -> tokenizer -> shards (`python data.py prepare CONFIG`).

Streams each language's documents (local files, or a Hugging Face Hub dataset read by HTTP
range requests with retries), shuffles them in seeded blocks, keeps the first as validation,
builds the tokenizer (a byte-level BPE on a language-balanced sample, its disjoint variant, or
a stock tiktoken encoding), and tokenises the rest on every core into fixed-size shards.
Memory stays flat whatever the corpus size. A killed preparation resumes from its last
complete shard; a finished one is never redone; a changed config is refused, naming the
field. A data dir is locked while it is prepared. data.py reads what this writes.
"""
import collections
import glob
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import struct
import time

import numpy as np

from data import HEADER_BYTES, SHARD_MAGIC, SHARD_VERSION, SPLITS, load_manifest, load_split
from scalex.configurator import ConfigError
from scalex.datastats import fmt, overlaps
from scalex.files import atomic_write, lock, progress, read_json, sha256_file, unlock, write_json
from scalex.schema import Dict, Int, Str, T, Table
from scalex.sources import block_shuffled, iter_documents, iter_records, resolve_source, resolve_spec
from scalex.tokenizer import build_tokenizer, load_tokenizer, tokenizer_hash
from scalex.transform import Transform, validate_spec

# -----------------------------------------------------------------------------
# defaults for a data config (config/<scale>/data.py overrides them): each key's type and meaning
SOURCE = T("a source (a path or hf:OWNER/NAME:PATH) or a transform dict", lambda v: Str(empty=True).test(v) or isinstance(v, dict))
SETTINGS = Table(
    ("data_dir", "data/quickstart", Str(), "the folder prepared (train.py's data_dir)"),
    ("languages", {"en": "hf:HuggingFaceFW/fineweb-edu:sample/10BT", "zh": "hf:HuggingFaceFW/fineweb-2:data/cmn_Hani/train"},
     Dict(SOURCE, "a dict {language: source} (a language is a name: letters, digits, _)", nonempty=True),
     'language -> source: "hf:OWNER/NAME:PATH" streams the parquet/jsonl files under PATH of a Hub dataset; anything '
     'else is a local file or folder (.txt .jsonl .jsonl.gz .parquet, field "text"); a dict is a transformed stream'),
    ("local_dir", "", Str(empty=True), "if set, language L reads LOCAL_DIR/L.jsonl.gz (else L.jsonl, L.txt, L.parquet) "
     "instead of its source; leave it out (not empty) to stream from the Hub"),
    ("max_tokens", {"en": 8_000_000, "zh": 1_000_000}, Dict(Int(1), "a dict {language: tokens}"),
     "train tokens to prepare; runs use prefixes"),
    ("val_tokens", 100_000, Int(1), "per language, taken from the front of the document order"),
    ("test_tokens", {}, Dict(Int(1), "a dict {language: tokens}"), "per language: the held-out test split, whole "
     "documents right after val's; a language not listed gets 10 x val_tokens"),
    ("ood", {}, Dict(Str(), "a dict {language: source}"), "language -> an out-of-domain text of it (a source as in "
     "`languages`; local_dir does not apply), scored beside val: in-domain validation alone rewards memorising"),
    ("ood_tokens", 30_000, Int(1), "per language with an ood text: whole documents up to this many tokens"),
    ("tokenizer", "joint", Str(), "joint | disjoint | a tiktoken encoding name (cl100k_base, o200k_base)"),
    ("vocab_size", 4096, Int(1), "joint/disjoint: BPE ranks + the end-of-text token, per language"),
    ("tokenizer_sample_bytes", 2_000_000, Int(1), "per language: the BPE sees every language equally"),
    ("shuffle_block", 10_000, Int(1), "documents shuffled together (seeded; see block_shuffled())"),
    ("shard_tokens", 100_000_000, Int(1), "tokens per train shard file"),
    ("workers", 0, Int(0), "tokeniser processes; 0: one per core"),
    ("seed", 1337, Int(0, 2 ** 63), "seeds the document shuffle"),
    ("hf_revision", "main", Str(), "the Hub datasets' revision (a branch, tag or commit)"),
    ("transform_cache", "data/transform-cache.sqlite", Str(), "translations, shared by every data dir"),
)
DEFAULTS = SETTINGS.defaults
# -----------------------------------------------------------------------------

BATCH_BYTES = 1 << 20                 # text per task sent to a tokeniser process
# What the config keys change: a data_dir prepared under other values is refused, naming one.
# (local_dir is not among them: the sources' fingerprints say whether a folder holds the same text)
PREPARED_BY = ("languages", "max_tokens", "val_tokens", "test_tokens", "tokenizer", "vocab_size",
               "tokenizer_sample_bytes", "shuffle_block", "shard_tokens", "seed", "hf_revision", "ood", "ood_tokens")
BEFORE = {"test_tokens": None}  # what a dir prepared before a key existed was made with (no test split)


# ----------------------------------------------------------------------------- shards
def _header(count, itemsize, vocab, tok_hash):
    return struct.pack("<8sIIIQ64s", SHARD_MAGIC, SHARD_VERSION, itemsize, vocab, count, tok_hash.encode()).ljust(HEADER_BYTES, b"\0")


def _dtype(vocab):
    return np.uint16 if vocab <= 1 << 16 else np.uint32


def write_shard(path, tokens, vocab, tok_hash):
    """Header (magic, version, itemsize, vocab, count, tokenizer hash) then the tokens."""
    tokens = np.asarray(tokens, dtype=_dtype(vocab))
    atomic_write(path, lambda f: (f.write(_header(len(tokens), tokens.itemsize, vocab, tok_hash)), f.write(tokens.tobytes())))


class ShardWriter:
    """Appends tokens to a temp file and renames it into place with its header once complete,
    so memory holds one batch, never a shard, and a half-written shard never loads."""

    def __init__(self, path, vocab, tok_hash):
        self.path, self.vocab, self.hash, self.n = path, vocab, tok_hash, 0
        self.tmp = f"{path}.tmp{os.getpid()}"
        self.f = open(self.tmp, "wb")
        self.f.write(b"\0" * HEADER_BYTES)

    def add(self, tokens):
        self.f.write(np.asarray(tokens, dtype=_dtype(self.vocab)).tobytes())
        self.n += len(tokens)

    def close(self):
        self.f.seek(0)
        self.f.write(_header(self.n, np.dtype(_dtype(self.vocab)).itemsize, self.vocab, self.hash))
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.tmp, self.path)


# ----------------------------------------------------------------------------- prepare
def validate_data_config(cfg):
    """Every key's type (SETTINGS), then the rules of several keys, before anything is read."""
    SETTINGS.check(cfg)
    for lang, spec in cfg["languages"].items():
        if isinstance(spec, dict):
            validate_spec(lang, spec, cfg["languages"])
        elif not spec.strip() and not cfg["local_dir"]:
            raise ConfigError(f"languages.{lang}: empty source; give a path or hf:OWNER/NAME:PATH, or a local_dir")
    if set(cfg["max_tokens"]) != set(cfg["languages"]):
        raise ConfigError(f"max_tokens: give one entry per language {sorted(cfg['languages'])}, got {sorted(cfg['max_tokens'])}")
    for lang in cfg["ood"]:
        if lang not in cfg["languages"] or derived(cfg, lang):
            raise ConfigError(f"ood.{lang}: not a (real) language of this data config; languages: {', '.join(cfg['languages'])}")
    for lang in set(cfg["test_tokens"]) - set(cfg["languages"]):
        raise ConfigError(f"test_tokens.{lang}: not a language of this data config; languages: "
                          f"{', '.join(cfg['languages'])}")
    if cfg["tokenizer"] not in ("joint", "disjoint"):
        import tiktoken
        if cfg["tokenizer"] not in tiktoken.list_encoding_names():
            raise ConfigError(f"tokenizer: unknown {cfg['tokenizer']!r}; use joint, disjoint or a tiktoken encoding "
                              f"({', '.join(tiktoken.list_encoding_names())})")
    elif cfg["vocab_size"] < 258:
        raise ConfigError(f"vocab_size: must exceed 257 (256 bytes + end-of-text), got {cfg['vocab_size']}")


def derived(cfg, lang):
    return isinstance(cfg["languages"][lang], dict)


def test_tokens(cfg, lang):
    return cfg["test_tokens"].get(lang, 10 * cfg["val_tokens"])


def _resolve(cfg, lang):
    """A language's source: (kind, where, files), or for a transformed stream ("derived",
    spec, the source of the language it is made from, None until _with_transform)."""
    spec = cfg["languages"][lang]
    if not isinstance(spec, dict):
        return resolve_source(lang, cfg)
    return "derived", spec, resolve_source(spec["from"], cfg), None


def _with_transform(cfg, source):
    """The source, with its Transform built (a lexicon load) if it is a transformed stream."""
    if source[0] != "derived":
        return source
    os.makedirs(os.path.dirname(cfg["transform_cache"]) or ".", exist_ok=True)
    return source[:3] + (Transform(source[1], cfg["transform_cache"]),)


def _source_fingerprint(source):
    """What identifies a source: a local file by its name, size and a hash of its first and
    last MiB, so the same data is the same source whatever the path's spelling (a trailing
    slash, an absolute path, a copy); a Hub file by its path; a transformed stream by its spec
    and its base's."""
    if source[0] == "derived":
        return {"spec": source[1], "from": _source_fingerprint(source[2])}
    kind, _, files = source
    return [[os.path.basename(f), os.path.getsize(f), _ends_sha256(f)] if kind == "local" else [f, None] for f in files]


def _ends_sha256(path, n=1 << 20):
    with open(path, "rb") as f:
        h = hashlib.sha256(f.read(n))
        f.seek(max(0, os.path.getsize(path) - n))
        return hashlib.sha256(h.digest() + f.read(n)).hexdigest()


def _same_source(old, new):
    """A fingerprint against an earlier one (older dirs stored [path, size]: compared by name and size)."""
    if isinstance(new, dict):
        return isinstance(old, dict) and old.get("spec") == new["spec"] and _same_source(old.get("from"), new["from"])
    return isinstance(old, list) and len(old) == len(new) and all(
        [o[0] if o[1] is None else os.path.basename(o[0]), *o[1:]] == n[:len(o)] for o, n in zip(old, new))


def _check_same(old, cfg, sources, d, finished=True):
    """A prepared (or half-prepared) dir is refused under other settings, naming one; an
    unfinished one may change max_tokens (shards are prefixes, so a source that ran short can
    be resumed with the lower figure its error gave)."""
    for k in PREPARED_BY:
        was = old["config"].get(k, BEFORE.get(k, DEFAULTS[k]))
        if was != cfg[k] and (finished or k != "max_tokens"):
            raise ConfigError(f"{k}: {d} was prepared with {k}={old['config'].get(k)!r}, not {cfg[k]!r}; "
                              f"choose another data_dir or delete {d}")
    for lang, source in sources.items():
        if not _same_source(old["sources"].get(lang), json.loads(json.dumps(_source_fingerprint(source)))):
            raise ConfigError(f"languages.{lang}: the source's files changed since {d} was prepared from them; "
                              f"choose another data_dir or delete {d}")


def _stream(cfg, lang, source, start=(0, 0), counts=None):
    """(block, offset, text) of a language's shuffled non-empty documents from `start` on. A
    transformed stream is its base language's documents, in the same order, transformed."""
    if source[0] == "derived":
        batch = []
        for item in itertools.chain(_stream(cfg, source[1]["from"], source[2], start, counts), [None]):
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) == 64):
                yield from ((b, o, t) for (b, o, _), t in zip(batch, source[3]([t for _, _, t in batch])))
                batch = []
        return
    kind, _, files = source
    records = iter_records(kind, files, cfg["hf_revision"], skip=start[0] * cfg["shuffle_block"], counts=counts)
    for b, o, t in block_shuffled(records, cfg["shuffle_block"], cfg["seed"], start_block=start[0]):
        if t and (b, o) >= start:
            yield b, o, t


def _val_candidates(cfg, lang, source):
    """The first documents of the order, by bytes so no tokenizer is needed yet: no BPE we use
    packs more than 8 bytes in a token on average, so 8 bytes per held-out token always suffice
    (prepare keeps whole documents until val_tokens, then test_tokens). Every candidate stays
    out of train. Returns (docs, where train starts)."""
    docs, n, pos = [], 0, (0, 0)
    for b, o, t in _stream(cfg, lang, source):
        docs.append(t)
        n += len(t.encode())
        pos = (b, o + 1)
        if n >= 8 * (cfg["val_tokens"] + test_tokens(cfg, lang)):
            break
    if not docs:
        raise ConfigError(f"languages.{lang}: the source ({_describe(source)}) holds no non-empty document; give it text")
    return docs, pos


def _describe(source):
    return f"{source[1]['transform']} of {source[1]['from']}" if source[0] == "derived" else str(source[1])


def _doc_hash(t):
    return hashlib.sha1(t.encode()).hexdigest()


_WORKER = {}


def _worker_init(dir_):
    _WORKER["tok"] = load_tokenizer(dir_)


def _encode_task(lang, texts):
    flat, lengths = _WORKER["tok"].encode_docs(texts, lang)
    return flat, lengths, sum(len(t.encode()) for t in texts)


def _batches(docs):
    """Lists of (position, text) of about BATCH_BYTES of text each."""
    batch, n = [], 0
    for b, o, t in docs:
        batch.append(((b, o), t))
        n += len(t)
        if n >= BATCH_BYTES:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def _tokenize_ordered(tasks, lang, n_workers, dir_, limit, stats):
    """(batch, (flat, lengths, bytes)) in order, tokenised by n_workers processes with at most
    `limit` batches in flight: the bounded buffer that keeps memory flat."""
    if n_workers == 1:
        _worker_init(dir_)
        for batch in tasks:
            stats["peak_in_flight"] = max(stats["peak_in_flight"], 1)
            yield batch, _encode_task(lang, [t for _, t in batch])
        return
    pool = mp.get_context("spawn").Pool(n_workers, initializer=_worker_init, initargs=(dir_,))
    pending = collections.deque()
    try:
        for batch in tasks:
            pending.append((batch, pool.apply_async(_encode_task, (lang, [t for _, t in batch]))))
            stats["peak_in_flight"] = max(stats["peak_in_flight"], len(pending))
            if len(pending) >= limit:
                b, r = pending.popleft()
                yield b, r.get()
        while pending:
            b, r = pending.popleft()
            yield b, r.get()
    except BaseException as e:
        if not isinstance(e, GeneratorExit):  # killed or failed: stop the workers at once
            pool.terminate()
            pool.join()
            raise
    # Done, or the consumer has enough: let the few tasks in flight finish and close cleanly
    # (terminating a pool mid-task can leave its handler threads waiting forever).
    for _, r in pending:
        r.wait()
    pool.close()
    pool.join()


def _prepare_train(cfg, lang, source, tok, tok_hash, d, lp, save, log):
    """Fill lang/train-NNNNN.bin up to max_tokens from where the last complete shard ended."""
    want, per_shard = cfg["max_tokens"][lang], cfg["shard_tokens"]
    done = sum(s["tokens"] for s in lp["shards"])
    if done >= want:
        return
    n_workers = cfg["workers"] or os.cpu_count() or 1
    limit = 2 * n_workers
    stats = {"peak_in_flight": 0}
    counts = {}
    val_hashes = set(lp["val"]["hashes"])
    r = lp["resume"]
    docs = ((b, o, t) for b, o, t in _stream(cfg, lang, source, (r["block"], r["offset"]), counts) if _doc_hash(t) not in val_hashes)
    new_writer = lambda: ShardWriter(os.path.join(d, lang, f"train-{len(lp['shards']):05d}.bin"), tok.n_vocab, tok_hash)
    writer = new_writer()
    bar = progress(total=want, initial=done, unit="tok", desc=f"{lang} {'transforming and ' if source[0] == 'derived' else ''}tokenising")
    t0, bytes0 = time.time(), lp["text_bytes"]
    drop = r["drop"]  # tokens of the first document that earlier shards already hold

    def account(docs_done):  # documents (and their text) that reached a shard; None: counted before
        lp["docs"] += sum(1 for pos, _ in docs_done if pos is not None)
        lp["text_bytes"] += sum(len(t.encode()) for pos, t in docs_done if pos is not None)

    for batch, (flat, lengths, _) in _tokenize_ordered(_batches(docs), lang, n_workers, d, limit, stats):
        ends, i = np.cumsum(lengths), drop
        if drop:  # that document was counted when its first part was written
            batch, drop = [(None, batch[0][1])] + batch[1:], 0
        k = 0  # documents of this batch accounted for
        while i < len(flat):
            take = min(per_shard - writer.n, want - done, len(flat) - i)
            writer.add(flat[i:i + take])
            i += take
            done += take
            if writer.n < per_shard and done < want:
                continue
            # a shard is complete: resume from the document its last token belongs to
            j = min(int(np.searchsorted(ends, i - 1, side="right")), len(lengths) - 1)
            (b, o), start = batch[j][0] or (r["block"], r["offset"]), int(ends[j] - lengths[j])
            writer.close()
            lp["shards"].append({"file": os.path.basename(writer.path), "tokens": writer.n, "sha256": sha256_file(writer.path)})
            account(batch[k:j + 1])
            k = j + 1
            lp["resume"] = {"block": b, "offset": o, "drop": i - start}
            lp["bytes_downloaded"] += counts.pop("bytes_downloaded", 0)
            save()
            if done >= want:
                break
            writer = new_writer()
        if done >= want:
            break
        account(batch[k:])
        bar.update(done - bar.n)
        bar.set_postfix(docs=f"{lp['docs']:,}", MBps=f"{(lp['text_bytes'] - bytes0) / 1e6 / max(1e-9, time.time() - t0):.1f}")
    bar.close()
    lp["peak_in_flight"], lp["in_flight_limit"] = max(lp.get("peak_in_flight", 0), stats["peak_in_flight"]), limit
    if done < want:
        writer.f.close()
        os.remove(writer.tmp)
        if done == 0:
            raise ConfigError(f"languages.{lang}: no text is left for training after the validation documents; give it "
                              f"more text, or lower val_tokens and delete {d} (its preparation began with this value)")
        raise ConfigError(f"max_tokens.{lang}: the source holds only {done:,} train tokens; set --max_tokens.{lang}={done} "
                          f"(or lower) and run prepare again: it continues from here")
    save()


def prepare(cfg, log=print):
    """Build, resume or confirm data_dir for a data config; returns the manifest."""
    validate_data_config(cfg)
    d, langs = cfg["data_dir"], list(cfg["languages"])
    sources = {lang: _resolve(cfg, lang) for lang in langs}
    held = lock(os.path.join(os.path.dirname(os.path.abspath(d)), f".{os.path.basename(os.path.abspath(d))}.lock"),
                f"data_dir: {d}", "another preparation is writing it; wait for it to finish")
    try:
        return _prepare_locked(cfg, d, langs, sources, log)
    finally:
        unlock(held)


# The files prepare writes (relative to data_dir); their temp files are NAME.tmp<pid>.
OWN_FILES = ("manifest.json", "progress.json", "tokenizer.tiktoken", "tokenizer.json", "stats.json", "*/val.bin", "*/test.bin",
             "*/train-[0-9]*.bin")


def _check_ours(d):
    """Only a data dir this program made (manifest.json or progress.json, written before
    anything else) is written into: an existing folder of the user's is refused untouched."""
    if os.path.exists(d) and not os.path.isdir(d):
        raise ConfigError(f"data_dir: {d} is a file, not a folder; choose another data_dir")
    if os.path.isdir(d) and os.listdir(d) and not any(os.path.isfile(os.path.join(d, f)) for f in ("manifest.json", "progress.json")):
        raise ConfigError(f"data_dir: {d} already holds files that data.py did not write (no manifest.json or progress.json); "
                          f"choose a new or empty data_dir")


def _remove_own_temp_files(d):
    """Temp files of our writes a kill interrupted (we hold the lock: no live writer owns
    them). Only NAME.tmp<digits> of a file we write, nothing else of the folder's."""
    for name in OWN_FILES:
        for leftover in glob.glob(os.path.join(glob.escape(d), name + ".tmp[0-9]*")):
            if leftover.rpartition(".tmp")[2].isdigit() and os.path.isfile(leftover):
                os.remove(leftover)


def _prepare_locked(cfg, d, langs, sources, log):
    _check_ours(d)
    _remove_own_temp_files(d)
    prog_path, man_path = os.path.join(d, "progress.json"), os.path.join(d, "manifest.json")
    fix = f"delete {d} and prepare it again"
    for path in (man_path, prog_path):
        if os.path.isfile(path):
            old = read_json(path, fix)
            if not isinstance(old, dict) or not isinstance(old.get("config"), dict) or "sources" not in old:
                raise ConfigError(f"{path}: not a scalex {os.path.basename(path)[:-5]} file; {fix}")
            _check_same(old, cfg, sources, d, finished=path == man_path)
            break
    if os.path.isfile(man_path):
        m = load_manifest(d)
        for lang in langs:
            for split in (s for s in SPLITS if s in m["languages"][lang]):
                load_split(d, m, lang, split)  # a damaged shard: one line saying to delete d and prepare again
        log(f"{d}: up to date (manifest {m['sha256'][:12]}), nothing to do")
        return m
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    for lang, (kind, where, files, *_) in sources.items():  # which text is read, said before it is
        log(f"{lang}: " + (f"{where['transform']} of {where['from']}" if kind == "derived" else f"reading {', '.join(files)}"
                           if kind == "local" else f"streaming {len(files)} file(s) of {where} from the Hugging Face Hub"))
    sources = {lang: _with_transform(cfg, src) for lang, src in sources.items()}  # no second listing of the Hub
    prog = {"version": 2, "config": {k: cfg[k] for k in PREPARED_BY},
            "sources": {lang: _source_fingerprint(sources[lang]) for lang in langs}, "tokenizer": None, "languages": {}}
    if os.path.isfile(prog_path):
        prog = read_json(prog_path, fix)
        prog["config"]["max_tokens"] = cfg["max_tokens"]
        log(f"{d}: resuming an interrupted preparation")
    save = lambda: write_json(prog_path, prog)
    if not os.path.isfile(prog_path):
        save()  # first: it marks the folder as ours (_check_ours) before anything else is written

    # 1. validation candidates (and the tokenizer's sample) from the front of each language
    cands = {}
    tok_ok = prog["tokenizer"] and os.path.isfile(os.path.join(d, "tokenizer.json")) and tokenizer_hash(d) == prog["tokenizer"]
    for lang in langs:
        if not tok_ok or "val" not in prog["languages"].get(lang, {}):
            cands[lang] = _val_candidates(cfg, lang, sources[lang])
    if not tok_ok:
        samples = {}
        if cfg["tokenizer"] in ("joint", "disjoint"):
            for lang in (x for x in langs if not derived(cfg, x)):  # synthetic text does not shape the BPE
                samples[lang], n = [], 0
                hashes = {_doc_hash(t) for t in cands[lang][0]}
                for _, _, t in _stream(cfg, lang, sources[lang], cands[lang][1]):
                    if _doc_hash(t) not in hashes:
                        samples[lang].append(t)
                        n += len(t.encode())
                        if n >= cfg["tokenizer_sample_bytes"]:
                            break
            log(f"training BPE ({cfg['tokenizer']}, vocab {cfg['vocab_size']}) on "
                f"{sum(len(t.encode()) for v in samples.values() for t in v) / 1e6:.1f} MB, at most "
                f"{cfg['tokenizer_sample_bytes'] / 1e6:.1f} MB per language")
        t_bpe = time.time()
        prog["tokenizer"], prog["languages"] = build_tokenizer(cfg, samples, d), {}  # shards of another tokenizer are void
        log(f"tokenizer ready in {time.time() - t_bpe:.1f}s")
        save()
    tok, tok_hash = load_tokenizer(d), prog["tokenizer"]

    # 2. per language: the val and test shards, train shards up to max_tokens, the ood shard,
    # then how much of each held-out split's text train holds word for word (8-gram overlap)
    for lang in langs:
        os.makedirs(os.path.join(d, lang), exist_ok=True)
        lp = prog["languages"].setdefault(lang, {"shards": [], "docs": 0, "text_bytes": 0, "bytes_downloaded": 0})
        if "val" not in lp:
            lp.update(_prepare_held_out(cfg, lang, cands[lang][0], tok, tok_hash, d))
            lp["resume"] = {"block": cands[lang][1][0], "offset": cands[lang][1][1], "drop": 0}
            save()
        _prepare_train(cfg, lang, sources[lang], tok, tok_hash, d, lp, save, log)
        if lang in cfg["ood"] and "ood" not in lp:
            lp["ood"] = _prepare_ood(cfg, lang, cfg["ood"][lang], tok, tok_hash, d)
            save()
        if any("overlap_8gram" not in lp[s] for s in SPLITS[1:] if s in lp):
            overlaps(d, lang, lp, tok)
            save()
        held = lambda s: (f"{lp[s]['tokens']:,} {s} tokens ({lp[s]['docs']} docs, {lp[s]['bytes']:,} bytes, "
                          f"8-gram overlap with train {fmt(lp[s]['overlap_8gram'])})")
        log(f"{lang}: {sum(s['tokens'] for s in lp['shards']):,} train tokens in {len(lp['shards'])} shard(s) "
            f"({lp['docs']:,} docs, {lp['text_bytes'] / max(1, sum(s['tokens'] for s in lp['shards'])):.2f} bytes/token), "
            f"{held('val')}, {held('test')}"
            + (f"; {held('ood')} from {cfg['ood'][lang]}" if "ood" in lp else ""))

    man = _manifest(cfg, prog, sources, langs, tok, tok_hash, time.time() - t0, log)
    write_json(man_path, man)  # last: marks the dir complete
    os.remove(prog_path)
    return load_manifest(d)


def _manifest(cfg, prog, sources, langs, tok, tok_hash, seconds, log):
    """manifest.json's content: the config, sources, tokenizer and, per language, its splits'
    shards and counts (and a transformed stream's quality numbers)."""
    man = {"version": 2, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "config": cfg,
           "sources": prog["sources"], "tokenizer": {**tok.meta, "sha256": tok_hash, "files": ["tokenizer.tiktoken", "tokenizer.json"]},
           "languages": {}, "prepare_s_last": round(seconds, 1)}
    for lang in langs:
        lp, src = prog["languages"][lang], sources[lang]
        kind, where, files = ("derived", src[1], src[2][2]) if src[0] == "derived" else src
        man["languages"][lang] = {
            "source": where, "kind": kind, "files": files,
            "train": {"shards": lp["shards"], "tokens": sum(s["tokens"] for s in lp["shards"]), "docs": lp["docs"],
                      "text_bytes": lp["text_bytes"], "bytes_downloaded": lp["bytes_downloaded"]},
            "val": {k: v for k, v in lp["val"].items() if k != "hashes"}, "test": lp["test"],
            "tokenize_buffer": {"limit": lp.get("in_flight_limit"), "peak": lp.get("peak_in_flight")}}
        if "ood" in lp:
            man["languages"][lang]["ood"] = lp["ood"]
        if kind == "derived":
            man["languages"][lang]["derived"] = f"{where['transform']} of {where['from']} ({where.get('backend', 'dict')})"
            man["languages"][lang]["transform"] = _transform_quality(cfg, src)
            log(f"{lang}: {man['languages'][lang]['derived']}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in man["languages"][lang]["transform"].items() if isinstance(v, float)))
    return man


def _prepare_held_out(cfg, lang, docs, tok, tok_hash, d):
    """The val and test splits of the candidates: whole documents from the front of the order,
    val up to val_tokens, then test up to test_tokens. {split: what progress.json records}."""
    flat, lengths = tok.encode_docs(docs, lang)
    ends = np.concatenate([[0], np.cumsum(lengths)])  # ends[k]: the tokens of the first k documents
    out, k = {}, 0
    splits = (("val", "val_tokens", cfg["val_tokens"]), ("test", f"test_tokens.{lang}", test_tokens(cfg, lang)))
    for split, key, want in splits:
        if ends[-1] < ends[k] + want:
            raise ConfigError(f"{key}: language '{lang}' has only {int(ends[-1] - ends[k]):,} tokens "
                              f"{'in all' if split == 'val' else 'after its validation documents'}, not "
                              f"enough for {want:,} {split} tokens and training; give it more text, or lower "
                              f"{key} and delete {d} (its preparation began with this value)")
        j = int(np.searchsorted(ends, ends[k] + want))  # whole documents up to `want` tokens
        path = os.path.join(d, lang, f"{split}.bin")
        write_shard(path, flat[ends[k]:ends[j]], tok.n_vocab, tok_hash)
        n = int(ends[j] - ends[k])
        out[split] = {"shards": [{"file": f"{split}.bin", "tokens": n, "sha256": sha256_file(path)}],
                      "tokens": n, "docs": j - k, "bytes": sum(len(t.encode()) for t in docs[k:j])}
        k = j
    out["val"]["hashes"] = sorted({_doc_hash(t) for t in docs})  # all candidates stay out of train
    return out


def _prepare_ood(cfg, lang, spec, tok, tok_hash, d):
    """The ood split: the first whole documents of an out-of-domain text, up to ood_tokens,
    tokenised and written as the val split is."""
    kind, _, files = resolve_spec(spec, f"ood.{lang}", cfg["hf_revision"])
    docs, n = [], 0
    for t in iter_documents(kind, files, cfg["hf_revision"]):
        docs.append(t)
        n += len(t.encode())
        if n >= 8 * cfg["ood_tokens"]:  # as _val_candidates: 8 bytes a token always suffice
            break
    if not docs:
        raise ConfigError(f"ood.{lang}: '{spec}' holds no non-empty document; give it text")
    flat, lengths = tok.encode_docs(docs, lang)
    n_docs = min(len(docs), int(np.searchsorted(np.cumsum(lengths), cfg["ood_tokens"]) + 1))
    n_tok = int(lengths[:n_docs].sum())
    path = os.path.join(d, lang, "ood.bin")
    write_shard(path, flat[:n_tok], tok.n_vocab, tok_hash)
    return {"shards": [{"file": "ood.bin", "tokens": n_tok, "sha256": sha256_file(path)}], "tokens": n_tok,
            "docs": n_docs, "bytes": sum(len(t.encode()) for t in docs[:n_docs]), "source": spec}


def _transform_quality(cfg, src, n_docs=200):
    """Quality numbers of a transformed stream on the first n_docs of its base's order."""
    tf = src[3]
    tf.words = [0, 0]
    out = tf([t for _, _, t in itertools.islice(_stream(cfg, src[1]["from"], src[2]), n_docs)])
    q = tf.quality(out)
    if tf.cache is not None:
        q["cache"] = {"hits": tf.cache.hits, "misses": tf.cache.misses}
    return q
