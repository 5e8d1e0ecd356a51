"""
What a prepared data dir holds, measured: tokens per UTF-8 byte, the shared-token rate between
languages (`python data.py stats CONFIG`), and the n-gram overlap of each held-out split with
its language's train text, which prepare computes once and stores in the manifest.
"""
import os

import numpy as np

from data import SPLITS, load_manifest, load_split, read_shard
from scalex.files import write_json

OVERLAP_N = 8                       # the overlap's n-grams: long enough that a match is copied text
OVERLAP_TRAIN_TOKENS = 50_000_000   # the train tokens it reads at most, the first: bounded memory


def ngram_hashes(tokens, eots, n=OVERLAP_N):
    """A 64-bit hash of every n-gram of tokens that holds no end-of-text (an n-gram across two
    documents is an artefact of their order): a polynomial in a large odd number, mod 2^64."""
    t, m = np.asarray(tokens).astype(np.uint64), len(tokens) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):
        h = h * np.uint64(0x9E3779B97F4A7C15) + t[k:k + m]  # wraps mod 2^64, as meant
    c = np.concatenate([[0], np.cumsum(np.isin(t, eots))])  # end-of-texts before each position
    return h[c[n:] == c[:m]]


def overlaps(d, lang, lp, tok):
    """Each held-out split's overlap_8gram (in lp, a language's progress record): the share of
    its token 8-grams that also occur in the language's train shards, their first
    OVERLAP_TRAIN_TOKENS tokens. Text the model may have read word for word: a low bpb there is
    partly recall, not generalisation. None for a split too short to hold an 8-gram."""
    eots = [tok.meta["eot"] + off for off in set(tok.offsets.values())]
    parts, n = [], 0
    for s in lp["shards"]:
        parts.append(np.asarray(read_shard(os.path.join(d, lang, s["file"]))[:OVERLAP_TRAIN_TOKENS - n]))
        n += len(parts[-1])
        if n >= OVERLAP_TRAIN_TOKENS:
            break
    seen = np.unique(ngram_hashes(np.concatenate(parts), eots))
    for split in (s for s in SPLITS[1:] if s in lp):
        h = ngram_hashes(read_shard(os.path.join(d, lang, lp[split]["shards"][0]["file"])), eots)
        lp[split]["overlap_8gram"] = float(np.isin(h, seen).mean()) if len(h) else None


def fmt(x):
    return "-" if x is None else f"{x:.3f}"


def stats(cfg, log=print):
    """Per language: tokens per UTF-8 byte (on val); against every other language, the
    shared-token rate: the share of its val tokens whose ids also occur in the other's train
    data (end-of-text excluded); and each held-out split's 8-gram overlap with its own train
    data (from the manifest). Printed, and saved as stats.json beside the manifest."""
    d = cfg["data_dir"]
    m = load_manifest(d)
    langs = list(m["languages"])
    eots = {m["tokenizer"]["eot"] + off for off in m["tokenizer"]["offsets"].values()}
    present = {}
    for lang in langs:
        seen = np.zeros(m["tokenizer"]["n_vocab"], dtype=bool)
        train = load_split(d, m, lang, "train")
        for a in range(0, len(train), 1 << 24):  # chunks: flat memory on billions of tokens
            seen[np.unique(train[a:a + (1 << 24)])] = True
        present[lang] = seen
    out = {"tokenizer": m["tokenizer"]["variant"], "vocab_size": m["tokenizer"]["n_vocab"], "languages": {}}
    for lang in langs:
        val_stream = load_split(d, m, lang, "val")
        val = val_stream[0:len(val_stream)]
        val = val[~np.isin(val, list(eots))]
        lm = m["languages"][lang]
        out["languages"][lang] = {
            "tokens_per_byte": lm["val"]["tokens"] / lm["val"]["bytes"],
            "shared_token_rate": {o: float(present[o][val].mean()) for o in langs if o != lang},
            "overlap_8gram": {s: lm[s].get("overlap_8gram") for s in SPLITS[1:] if s in lm}}
    write_json(os.path.join(d, "stats.json"), out)
    log(f"{d}: tokenizer {out['tokenizer']}, vocab {out['vocab_size']:,}")
    log(f"{'language':<14}{'tokens/byte':>12}  {'8-gram overlap with train':<36}shared-token rate (share of its val "
        f"tokens seen in the other's train data)")
    for lang, r in out["languages"].items():
        ov = ", ".join(f"{s} {fmt(v)}" for s, v in r["overlap_8gram"].items())
        log(f"{lang:<14}{r['tokens_per_byte']:>12.3f}  {ov:<36}"
            + ", ".join(f"{o}: {v:.3f}" for o, v in r["shared_token_rate"].items()))
    for lang, lm in m["languages"].items():
        if "transform" in lm:
            out["languages"][lang]["transform"] = lm["transform"]
            log(f"{lang}: {lm['derived']}: " + ", ".join(f"{k} {v:.3f}" for k, v in lm["transform"].items() if isinstance(v, float)))
    return out
