"""
The tokenizer variants, all encoded by tiktoken:
- joint (default): one byte-level BPE trained (by HF tokenizers, in Rust) on an equal byte
  sample of every language; its merge order becomes tiktoken's ranks;
- disjoint: the joint BPE with language i's ids shifted by i * base_vocab, so no id is shared
  between languages while the segmentation stays exactly the joint one (the shared-token
  ablation changes sharing alone, not tokens per byte);
- a stock tiktoken encoding by name (cl100k_base, o200k_base) when it is cached or downloadable.
A tokenizer is two files in the data dir: tokenizer.tiktoken (ranks) and tokenizer.json.
"""
import base64
import hashlib
import itertools
import json
import os

import numpy as np

from scalex.configurator import ConfigError
from scalex.files import atomic_write, sha256_file, write_json

EOT = "<|endoftext|>"
# GPT-4-style split, written without possessive quantifiers so HF tokenizers' regex engine
# (used to train) and tiktoken's (used to encode) split text the same way.
SPLIT_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
                 r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")


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
    import sys
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 1, show_progress=sys.stderr.isatty(),  # logs: data.py's lines
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(texts, trainer)
    dec = _byte_decoder()
    ranks = {}
    for s, i in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]):
        ranks.setdefault(bytes(dec[c] for c in s), len(ranks))
    assert all(bytes([b]) in ranks for b in range(256)), "BPE lost a single byte"
    return ranks


class Tokenizer:
    """A tiktoken encoding plus what the variants add. `disjoint` shifts every id of language
    i by i * base_vocab, so no id is shared between languages while the segmentation (which
    bytes form a token) stays exactly the joint BPE's: only sharing changes, not tokens/byte."""

    def __init__(self, enc, meta):
        self.enc, self.meta = enc, meta
        self.base_vocab, self.n_vocab = meta["base_vocab"], meta["n_vocab"]
        self.offsets = meta["offsets"]

    def encode_docs(self, docs, lang, threads=1):
        """One int array: each document's tokens followed by the end-of-text token."""
        off = self.offsets[lang]
        eot = self.meta["eot"] + off
        ids = self.enc.encode_ordinary_batch(docs, num_threads=threads)
        for x in ids:
            x.append(self.meta["eot"])
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        if off:
            flat += off
        assert flat.size == 0 or flat[-1] == eot
        return flat, lengths

    def decode(self, ids):
        return self.enc.decode([int(i) % self.base_vocab for i in ids if int(i) % self.base_vocab != self.meta["eot"]])

    def token_bytes(self):
        """UTF-8 bytes each id stands for (end-of-text: 0), for bits-per-byte."""
        n = np.zeros(self.base_vocab, dtype=np.int64)
        for t, r in self.enc._mergeable_ranks.items():
            n[r] = len(t)
        return np.tile(n, self.n_vocab // self.base_vocab)


def build_tokenizer(cfg, samples, out_dir):
    """Write tokenizer.tiktoken (ranks) and tokenizer.json (variant, pattern, ids) for a
    config; `samples` is {lang: [texts]} (unused by a stock encoding). Returns their hash."""
    import tiktoken
    variant = cfg["tokenizer"]
    langs = [lang for lang, spec in cfg["languages"].items() if not isinstance(spec, dict)]
    if variant in ("joint", "disjoint"):
        ranks, pat = train_bpe([t for texts in samples.values() for t in texts], cfg["vocab_size"]), SPLIT_PATTERN
        eot = len(ranks)
    else:
        try:
            enc = tiktoken.get_encoding(variant)
        except Exception as e:  # unknown name, or not cached and no network
            raise ConfigError(f"tokenizer: cannot load tiktoken's '{variant}' ({type(e).__name__}); use joint, disjoint, "
                              f"or put the encoding in TIKTOKEN_CACHE_DIR") from None
        ranks, pat, eot = enc._mergeable_ranks, enc._pat_str, enc.eot_token
    base = max(max(ranks.values()) + 1, eot + 1)
    meta = {"variant": variant, "pat_str": pat, "eot": eot, "base_vocab": base,
            "n_vocab": base * (len(langs) if variant == "disjoint" else 1),
            "offsets": {lang: (i * base if variant == "disjoint" else 0) for i, lang in enumerate(langs)},
            "vocab_size": cfg["vocab_size"], "sample_bytes_per_language": cfg["tokenizer_sample_bytes"]}
    os.makedirs(out_dir, exist_ok=True)
    for lang, spec in cfg["languages"].items():  # a transformed stream takes its target's (else its base's) ids
        if isinstance(spec, dict):
            meta["offsets"][lang] = meta["offsets"][spec.get("target") or spec["from"]]
    lines = "".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in sorted(ranks.items(), key=lambda kv: kv[1]))
    atomic_write(os.path.join(out_dir, "tokenizer.tiktoken"), lambda f: f.write(lines), mode="w")
    write_json(os.path.join(out_dir, "tokenizer.json"), meta)
    return tokenizer_hash(out_dir)


def tokenizer_hash(dir_):
    return hashlib.sha256((sha256_file(os.path.join(dir_, "tokenizer.tiktoken")) +
                           sha256_file(os.path.join(dir_, "tokenizer.json"))).encode()).hexdigest()


def load_tokenizer(dir_):
    import tiktoken
    with open(os.path.join(dir_, "tokenizer.json")) as f:
        meta = json.load(f)
    ranks = {}
    with open(os.path.join(dir_, "tokenizer.tiktoken")) as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    enc = tiktoken.Encoding(name=f"scalex-{meta['variant']}", pat_str=meta["pat_str"], mergeable_ranks=ranks,
                            special_tokens={EOT: meta["eot"]})
    return Tokenizer(enc, meta)
