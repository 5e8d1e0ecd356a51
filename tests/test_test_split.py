"""The held-out test split: whole documents right after val's, 10x val by default, never in
train; its 8-gram overlap with train in the manifest; scored once, whole, at the end of a run."""
import json
import os

import numpy as np
import pytest

import data
import train
from conftest import data_config, tiny_run_config
from scalex import datastats, prepare, table
from scalex.configurator import ConfigError
from scalex.tokenizer import load_tokenizer


@pytest.fixture(scope="module")
def split_data(corpus, tmp_path_factory):
    d = tmp_path_factory.mktemp("testsplit") / "data"
    cfg = data_config(corpus, d, val_tokens=200, test_tokens={})  # test: the default, 10 x val
    return cfg, prepare.prepare(cfg, log=lambda *a: None)


def _docs(d, m, lang, split, tok):
    """The split's documents as text (cut at each end-of-text)."""
    toks = data.load_split(d, m, lang, split)
    ids = toks[0:len(toks)]
    cuts = np.flatnonzero(ids == tok.meta["eot"] + tok.offsets[lang]) + 1
    return [tok.decode(p) for p in np.split(ids, cuts) if len(p)]


def test_test_split_follows_val_and_stays_out_of_train(split_data):
    cfg, m = split_data
    d, tok = cfg["data_dir"], load_tokenizer(cfg["data_dir"])
    for lang in ("en", "zh"):
        lm = m["languages"][lang]
        assert os.path.isfile(os.path.join(d, lang, "test.bin")) and lm["test"]["tokens"] >= 10 * 200
        val, test, tr = (_docs(d, m, lang, s, tok) for s in ("val", "test", "train"))
        assert len(test) == lm["test"]["docs"] and sum(len(t.encode()) for t in test) == lm["test"]["bytes"]
        assert not set(test) & set(val) and not (set(test) | set(val)) & set(tr)
        # the documents right after val's in the source's order
        order = [t for _, _, t in prepare._stream(cfg, lang, prepare._resolve(cfg, lang))][:len(val) + len(test)]
        assert order == val + test
        for split in ("val", "test"):
            assert 0 <= lm[split]["overlap_8gram"] <= 1
    out = datastats.stats(cfg, log=lambda *a: None)
    assert set(out["languages"]["zh"]["overlap_8gram"]) == {"val", "test"}


def test_ngram_overlap_on_a_hand_made_example():
    held = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])  # three 8-grams: 1..8, 2..9, 3..10
    train_ = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 4, 5, 6, 99, 7, 8, 9, 10])  # holds 1..8; 3..10 only across 99
    seen = datastats.ngram_hashes(train_, eots=[99])
    assert np.isin(datastats.ngram_hashes(held, eots=[99]), seen).tolist() == [True, False, False]
    assert len(datastats.ngram_hashes(np.arange(7), eots=[])) == 0


def test_a_data_dir_without_a_test_split_is_refused(split_data, tmp_path):
    cfg, _ = split_data
    import shutil
    old = tmp_path / "old"
    shutil.copytree(cfg["data_dir"], old)
    path = old / "manifest.json"
    man = json.load(open(path))
    del man["config"]["test_tokens"]  # as prepared before test splits existed
    json.dump(man, open(path, "w"))
    with pytest.raises(ConfigError, match=r"^test_tokens: "):
        prepare.prepare(dict(cfg, data_dir=str(old)), log=lambda *a: None)
    with pytest.raises(ConfigError, match=r"^test_tokens\.fr: not a language"):
        prepare.validate_data_config(dict(cfg, test_tokens={"fr": 100}))


def test_a_run_scores_test_once_at_the_end(split_data, tmp_path):
    cfg, m = split_data
    assert train.main([tiny_run_config(tmp_path, cfg["data_dir"], "eval_interval = 4\n")]) == 0
    rd = tmp_path / "runs" / "t"
    s = json.load(open(rd / "summary.json"))
    for lang in ("en", "zh"):
        assert s["test_bpb"][lang] > 0 and s["test_bpb_se"][lang] > 0
        assert s["test_tokens"][lang] == m["languages"][lang]["test"]["tokens"]  # whole, not eval_tokens
    recs = [r for r in map(json.loads, open(rd / "metrics.jsonl")) if "val_bpb" in r]
    assert len(recs) >= 2 and all("test_bpb" not in r for r in recs[:-1]) and recs[-1]["test_bpb"] == s["test_bpb"]
    row = table.load_run(str(rd), str(tmp_path / "runs"))
    assert row["test.zh"] == s["test_bpb"]["zh"] and row["test.zh.se"] == s["test_bpb_se"]["zh"]
