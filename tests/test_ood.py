"""The out-of-domain split: a .tsv of aligned text read as documents (a chapter of verses per
document), prepared beside val with the run's tokenizer, part of the data's identity, scored
at the end of a run (summary ood_bpb) and along it (the learning curves' records)."""
import io
import json
import os

import pytest

import data
import train
from conftest import data_config, tiny_run_config
from scalex import prepare
from scalex.configurator import ConfigError
from scalex.sources import _tsv_documents

VERSES = [f"{b:02d}.{c}.{v}\tIn the beginning {b} {c} {v}.\t起初神创造天地第{b}卷{c}章{v}节，地是空虚混沌。" for b in (1, 2)
          for c in (1, 2, 3) for v in range(1, 30)]


def test_tsv_documents_are_chapters_of_the_last_column():
    docs = list(_tsv_documents(io.StringIO("\n".join(VERSES[:3] + ["", "bad line without tabs"] + VERSES[29:31]) + "\n")))
    assert len(docs) == 2 and docs[0].count("\n") == 2 and docs[0].startswith("起初神创造天地第1卷1章1节")
    assert "In the beginning" not in "".join(docs) and docs[1].startswith("起初神创造天地第1卷2章1节")


@pytest.fixture(scope="module")
def ood_data(corpus, tmp_path_factory):
    d = tmp_path_factory.mktemp("ood")
    tsv = d / "parallel.tsv"
    tsv.write_text("\n".join(VERSES) + "\n", encoding="utf-8")
    m = prepare.prepare(data_config(corpus, d / "data", ood={"zh": str(tsv)}, ood_tokens=3000), log=lambda *a: None)
    return str(d / "data"), m, str(tsv)


def test_prepare_writes_the_ood_split_and_it_is_part_of_the_identity(ood_data, prepared):
    d, m, tsv = ood_data
    o = m["languages"]["zh"]["ood"]
    assert "ood" not in m["languages"]["en"] and o["source"] == tsv and 3000 <= o["tokens"] < 6000 and o["docs"] >= 2
    stream = data.load_split(d, m, "zh", "ood")
    assert len(stream) == o["tokens"]
    held = data.load_held_out(d, m, ["en", "zh"])
    assert set(held["val"]) == {"en", "zh"} and set(held["ood"]) == {"zh"}
    assert m["sha256"] != prepared[1]["sha256"]  # another ood text is other data


def test_ood_config_errors_are_one_line(corpus, tmp_path):
    with pytest.raises(ConfigError, match=r"^ood\.fr: not a \(real\) language"):
        prepare.validate_data_config(data_config(corpus, tmp_path / "d", ood={"fr": "x.tsv"}))
    with pytest.raises(ConfigError, match=r"^ood\.zh: no such file or folder"):
        prepare.prepare(data_config(corpus, tmp_path / "d", ood={"zh": str(tmp_path / "missing.tsv")}), log=lambda *a: None)


def test_a_run_scores_ood_at_the_end_and_along_the_way(ood_data, tmp_path):
    d, _, _ = ood_data
    cfg = tiny_run_config(tmp_path, d, "eval_interval = 2\neval_tokens = 6000\n")  # all ood: its standard error needs 2 documents
    assert train.main([cfg]) == 0
    rd = tmp_path / "runs" / "t"
    s = json.load(open(rd / "summary.json"))
    assert set(s["ood_bpb"]) == {"zh"} and s["ood_bpb"]["zh"] > 0 and s["ood_bpb_se"]["zh"] > 0
    vals = [r for r in map(json.loads, open(rd / "metrics.jsonl")) if "val_bpb" in r]
    assert len(vals) >= 2 and all("ood_bpb" in r and sum(r["tokens_seen"].values()) > 0 for r in vals)
    assert vals[-1]["ood_bpb"] == s["ood_bpb"] and vals[-1]["step"] == s["steps"]
    assert [r["step"] for r in vals] == sorted(r["step"] for r in vals)
