"""
The token streams a run trains on, and the sampler that interleaves languages over them.

    python data.py prepare config/quickstart/data.py [--key=value ...]   text -> tokenizer -> shards
    python data.py stats   config/quickstart/data.py      tokens/byte, shared-token rates, 8-gram overlaps
    python data.py verify  data/quickstart                every shard and the tokenizer against the manifest
    python data.py --help                                 every key of a data config, its default and meaning

Read this file top to bottom: `Sampler` is the language order and proportion of a run (the
plan's stages, as sequence counts per language); `TokenStream` and `load_split` are the
shards it reads. Preparing the shards (sources, tokenizer training, parallel tokenisation,
resumable sharding) is plumbing, in scalex/prepare.py; this file only reads what it wrote.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

from scalex.configurator import ConfigError, fail, parse_args
from scalex.files import read_json, sha256_file

SHARD_MAGIC, SHARD_VERSION, HEADER_BYTES = b"SCALEXTK", 1, 256
# A language's splits: train; val, its first documents (held out; picks settings); test, the
# documents right after val's (held out; judges); ood, an out-of-domain text of the same
# language from another source, when the data config names one.
SPLITS = ("train", "val", "test", "ood")


# ----------------------------------------------------------------------------- sampler
class Sampler:
    """Deterministic language interleaving over token windows.

    `stages` is a list of {language: number of sequences}. Within a stage, each next sequence
    comes from the language furthest behind its target share (largest deficit; ties go
    to the language listed first in the run's budget), so the running mix tracks the target to within one sequence, with no
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


# ----------------------------------------------------------------------------- shards
# A shard: a fixed header (magic, version, itemsize, vocab, count, tokenizer hash), then the
# tokens, memory-mapped on read. scalex/prepare.py writes them.
def _redo(path):
    """The fix for a damaged data dir (prepare alone would refuse it: its manifest says done)."""
    return f"delete {os.path.dirname(os.path.dirname(path)) or '.'} and prepare it again"


def read_shard(path, tok_hash=None):
    """Memory-mapped tokens; refuses a shard that is torn, foreign or from another tokenizer."""
    if not os.path.isfile(path):
        raise ConfigError(f"data_dir: missing shard {path}; {_redo(path)}")
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    try:
        magic, version, itemsize, vocab, count, h = struct.unpack("<8sIIIQ64s", head[:92])
    except struct.error:
        raise ConfigError(f"data_dir: {path} is not a scalex shard (too short); {_redo(path)}") from None
    if magic != SHARD_MAGIC or version != SHARD_VERSION or itemsize not in (2, 4):
        raise ConfigError(f"data_dir: {path} has a bad header (magic/version); {_redo(path)}")
    if os.path.getsize(path) != HEADER_BYTES + count * itemsize:
        raise ConfigError(f"data_dir: {path} holds {os.path.getsize(path)} bytes, header says {count} tokens; {_redo(path)}")
    if tok_hash is not None and h.decode() != tok_hash:
        raise ConfigError(f"data_dir: {path} was made by another tokenizer (hash {h.decode()[:12]}, manifest {tok_hash[:12]}); {_redo(path)}")
    dtype = np.uint16 if itemsize == 2 else np.uint32
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER_BYTES, shape=(count,)) if count else np.zeros(0, dtype)


class TokenStream:
    """A language split's shards read as one sequence: len() and [a:b] (copied) across files."""

    def __init__(self, parts, length=None):
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.length = int(self.starts[-1]) if length is None else length

    def __len__(self):
        return self.length

    def head(self, n):
        """The first n tokens (a budget): same files, shorter."""
        return TokenStream(self.parts, min(n, self.length))

    def __getitem__(self, sl):
        a, b, _ = sl.indices(self.length)
        out, i = [], int(np.searchsorted(self.starts, a, side="right")) - 1
        while a < b:
            p0 = self.starts[i]
            take = min(b, self.starts[i + 1]) - a
            out.append(np.asarray(self.parts[i][a - p0: a - p0 + take]))
            a += take
            i += 1
        return np.concatenate(out) if len(out) != 1 else out[0]


_VERIFIED = {}  # shard path -> (size, mtime_ns) whose sha256 matched the manifest in this process


def verify_shard(path, want_sha256):
    """The shard's sha256 against the manifest's, once per process for an unchanged file: a
    corrupted token id keeps the size, so only the hash sees it (about 1 GB/s)."""
    st = os.stat(path)
    key = (st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(path) == key or want_sha256 is None:
        return
    if sha256_file(path) != want_sha256:
        raise ConfigError(f"data_dir: {path} is corrupted (its sha256 is not the manifest's); {_redo(path)}")
    _VERIFIED[path] = key


def load_split(data_dir, manifest, lang, split, verify=True):
    """TokenStream of a prepared language's split (data.SPLITS), every shard checked: header and
    size always, content (sha256) once per process unless verify=False."""
    info = manifest["languages"][lang][split]
    parts = [read_shard(os.path.join(data_dir, lang, s["file"]), manifest["tokenizer"]["sha256"]) for s in info["shards"]]
    for s, p in zip(info["shards"], parts):
        if len(p) != s["tokens"]:
            raise ConfigError(f"data_dir: {lang}/{s['file']} holds {len(p)} tokens, the manifest says {s['tokens']}; delete {data_dir} and prepare it again")
        if verify:
            verify_shard(os.path.join(data_dir, lang, s["file"]), s.get("sha256"))
    return TokenStream(parts)


def load_held_out(data_dir, manifest, langs):
    """{"val": {lang: stream}, "test": {...}, "ood": {...}}: what a run is scored on (ood only for
    the languages that have an out-of-domain text; test empty in data prepared before it existed)."""
    return {split: {lang: load_split(data_dir, manifest, lang, split) for lang in langs if split in manifest["languages"][lang]}
            for split in SPLITS[1:]}


def content_sha256(m):
    """The identity of a prepared data dir: its tokenizer and every shard's hash and size, not
    when or how fast it was made, so data prepared again byte for byte is the same data."""
    core = {"tokenizer": m["tokenizer"].get("sha256"),
            "languages": {lang: {split: [[s.get("file"), s.get("tokens"), s.get("sha256")] for s in lm[split]["shards"]]
                                 for split in SPLITS if split in lm or split in ("train", "val")}
                          for lang, lm in sorted(m["languages"].items())}}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()


def load_manifest(dir_):
    """The manifest, with sha256 (content_sha256) and file_sha256 (the file's, which older runs
    recorded); the tokenizer files are checked against the hash the shards were made with."""
    from scalex.tokenizer import tokenizer_hash
    path = os.path.join(dir_, "manifest.json")
    if not os.path.isfile(path):
        raise ConfigError(f"data_dir: '{dir_}' is not prepared; run `python data.py prepare config/<scale>/data.py` first")
    m = read_json(path, f"delete {dir_} and prepare it again (`python data.py prepare CONFIG`)")
    fix = f"delete {dir_} and prepare it again"
    try:
        m["sha256"] = content_sha256(m)
        tok_sha = m["tokenizer"]["sha256"]
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(f"{path}: not a scalex manifest; {fix}") from None
    try:
        found = tokenizer_hash(dir_)
    except FileNotFoundError:  # what reads the tokenizer names what is missing; shards alone still read
        found = tok_sha
    if found != tok_sha:
        raise ConfigError(f"data_dir: {dir_}'s tokenizer files are not the ones its shards were made with (hash {found[:12]}, "
                          f"manifest {tok_sha[:12]}): replaced or edited; put the original back, or {fix}")
    m["file_sha256"] = sha256_file(path)
    return m


def verify(data_dir):
    """Every shard of a data dir against its manifest (`python data.py verify DATA_DIR`)."""
    m = load_manifest(data_dir)
    n = 0
    for lang in m["languages"]:
        for split in (x for x in SPLITS if x in m["languages"][lang]):
            n += len(load_split(data_dir, m, lang, split).parts)
    print(f"{data_dir}: {n} shards and the tokenizer match manifest {m['sha256'][:12]}")


# ----------------------------------------------------------------------------- CLI
def main(argv):
    from scalex import datastats, prepare
    from scalex.configurator import load_config
    try:
        pos, over = parse_args(argv)
        if over.pop("help", False):
            print(f"{__doc__.strip()}\n\nsettings of a data config (--key=value overrides them):\n{prepare.SETTINGS.help()}")
            return 0
        if len(pos) == 2 and pos[0] == "verify":
            verify(pos[1])
            return 0
        if len(pos) == 2 and pos[0] in ("prepare", "stats"):
            if over.get("local_dir") == "":  # an empty DATA= or --local_dir= is a mistake, not "use the Hub"
                raise ConfigError("local_dir: empty; give the folder holding en.jsonl.gz, zh.jsonl.gz, or leave the "
                                  "option out to stream the config's sources from the Hugging Face Hub")
            cfg = load_config(pos[1], over, prepare.DEFAULTS)
            prepare.validate_data_config(cfg)
            prepare.prepare(cfg) if pos[0] == "prepare" else datastats.stats(cfg)
            return 0
    except (ConfigError, OSError) as e:
        fail(e)
    fail(f"command: give prepare CONFIG, stats CONFIG or verify DATA_DIR, got {' '.join(pos) or 'nothing'}; see `python data.py --help` (benchmarks: bench.py)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
