"""eval.py: checkpoint evaluation and bits-per-byte (the report is tested in test_report.py)."""
import contextlib
import json
import math
import os
import types

import numpy as np

import data
from scalex import tokenizer
import train
import eval as evaluate_mod
from conftest import run, tiny_run_config


def test_evaluate_checkpoint_matches_the_run_summary_and_bpb(tmp_path, prepared):
    cfg = tiny_run_config(tmp_path, prepared[0])
    assert run("train.py", cfg).returncode == 0
    rd = tmp_path / "runs" / "t"
    res = evaluate_mod.evaluate_checkpoint(str(rd))
    s = json.load(open(rd / "summary.json"))
    assert set(res) == {"val", "test"}  # the fixture data has no ood text
    for lang in ("en", "zh"):
        assert abs(res["val"][lang]["loss"] - s["val_loss"][lang]) < 1e-6
        for split in ("val", "test"):  # as the run's own final evaluation
            r = res[split][lang]
            assert abs(r["bpb"] - s[f"{split}_bpb"][lang]) < 1e-6 and abs(r["bpb_se"] - s[f"{split}_bpb_se"][lang]) < 1e-6
            # bits per byte = nats per scored token / ln 2 * scored tokens / bytes
            assert abs(r["bpb"] - r["loss"] / math.log(2) * r["scored"] / r["bytes"]) < 1e-9
        # test is scored whole: every token and byte of its text, each document once
        held = prepared[1]["languages"][lang]["test"]
        assert (res["test"][lang]["tokens"], res["test"][lang]["bytes"], res["test"][lang]["docs"]) == (
            held["tokens"], held["bytes"], held["docs"]) == (s["test_tokens"][lang], held["bytes"], held["docs"])
    tok = tokenizer.load_tokenizer(prepared[0])
    val = np.asarray(data.read_shard(os.path.join(prepared[0], "zh", "val.bin")))
    targets = val[:500]  # eval_tokens=500 targets, after one end-of-text: the first token is one
    assert res["val"]["zh"]["tokens"] == 500
    assert res["val"]["zh"]["bytes"] == sum(len(tok.enc.decode_single_token_bytes(int(t))) for t in targets if t != tok.meta["eot"])
    r = run("eval.py", str(rd))
    assert r.returncode == 0 and "bits/byte" in r.stdout and "zh" in r.stdout
    r = run("eval.py", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stderr.startswith("error: run: no folder")


# ----------------------------------------------------------------------------- bpb on any text
import pytest  # noqa: E402
import torch  # noqa: E402

from conftest import ZH_CHARS, parquet_bytes  # noqa: E402
from trained import trained_run  # noqa: E402


@pytest.fixture(scope="module")
def trun(tmp_path_factory, prepared):
    return trained_run(tmp_path_factory, prepared[0])


def main_in_process(capsys, *args):
    """eval.py's main as the command line runs it, without a new interpreter: (exit code, stdout, stderr)."""
    try:
        rc = evaluate_mod.main([str(a) for a in args])
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def _zh_docs(n=30, seed=3):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(ZH_CHARS) for _ in range(rng.randint(20, 90))) + "。" for _ in range(n)]


def test_bits_per_byte_counts_every_byte_and_matches_a_direct_computation(trun):
    model, cfg, tok, dev, _ = evaluate_mod.load_run(trun, "cpu")
    autocast = contextlib.nullcontext()  # float32, as the direct computation below (load_run's may be bf16)
    docs = _zh_docs()
    r = evaluate_mod.bits_per_byte(model, tok, docs, "zh", cfg["block_size"], 3, dev, autocast)
    # every UTF-8 byte of every document is predicted once; tokens include each document's end-of-text
    assert r["bytes"] == sum(len(d.encode()) for d in docs) and r["docs"] == len(docs)
    ids = [tok.meta["eot"]] + [i for d in docs for i in tok.enc.encode_ordinary(d) + [tok.meta["eot"]]]
    assert r["tokens"] == len(ids) - 1
    # the same windows scored directly from the logits, the end-of-text targets (0 bytes) left out
    B = cfg["block_size"]
    nll = 0.0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, B):
            x = torch.tensor([ids[s:s + B]])
            y = torch.tensor(ids[s + 1:s + B + 1])
            lp = torch.log_softmax(model(x[:, :len(y)])[0], -1)
            nll -= lp[torch.arange(len(y)), y][y != tok.meta["eot"]].double().sum().item()
    assert r["scored"] == r["tokens"] - len(docs)
    assert abs(r["loss"] - nll / r["scored"]) < 1e-5
    assert abs(r["bpb"] - nll / math.log(2) / r["bytes"]) < 1e-5
    assert 0 < r["bpb_se"] < 0.2 * r["bpb"]
    # the cap scores a prefix
    r2 = evaluate_mod.bits_per_byte(model, tok, docs, "zh", B, 3, dev, autocast, max_tokens=100)
    assert r2["tokens"] == 100 and r2["docs"] < len(docs)


class _KnownLosses:
    """A model whose loss on every target is the target's id / 10, whatever the context."""
    training = False

    def eval(self):
        pass

    def train(self, mode):
        pass

    def __call__(self, x, y):
        return y.double() / 10


def test_score_stream_equals_a_hand_computation():
    # ids 0-8 are text (bytes below), 6 a special token of 0 bytes, 9 the end-of-text
    token_bytes = np.array([1, 2, 3, 1, 2, 3, 0, 2, 1, 0])
    stream = np.array([9, 1, 2, 3, 9, 4, 6, 5, 9, 7, 8, 1, 2, 9])  # 3 documents after one end-of-text
    nocast = contextlib.nullcontext()
    r = evaluate_mod.score_stream(_KnownLosses(), stream, token_bytes, [9], 4, 2, "cpu", nocast)
    # by hand: per document, bits of its targets of at least one byte (6 and 9 are masked), and their bytes
    L = np.array([1 + 2 + 3, 4 + 5, 7 + 8 + 1 + 2]) / 10 / math.log(2)
    B = np.array([2 + 3 + 1, 2 + 3, 2 + 1 + 2 + 3])
    bpb = L.sum() / B.sum()
    se = math.sqrt(3 / 2 * ((L - bpb * B) ** 2).sum()) / B.sum()
    assert r["bpb"] == pytest.approx(bpb) and r["bpb_se"] == pytest.approx(se)
    assert r["loss"] == pytest.approx((6 + 9 + 18) / 10 / 9)  # nats per scored target: 9 of them
    assert (r["tokens"], r["scored"], r["bytes"], r["docs"], r["windows"]) == (13, 9, 19, 3, 4)  # the last window: 1 target
    # a cap scores a prefix: the second document in part (targets 4 and the masked 6)
    r = evaluate_mod.score_stream(_KnownLosses(), stream, token_bytes, [9], 4, 2, "cpu", nocast, max_tokens=6)
    L2, B2 = np.array([0.6, 0.4]) / math.log(2), np.array([6, 2])
    assert r["bpb"] == pytest.approx(L2.sum() / B2.sum()) and r["docs"] == 2 and r["tokens"] == 6
    # a held-out shard (documents each ended by end-of-text) is scored after one end-of-text: the same
    tok = types.SimpleNamespace(meta={"eot": 9}, offsets={"xx": 0}, token_bytes=lambda: token_bytes)
    ev = evaluate_mod.evaluate(_KnownLosses(), {"xx": stream[1:]}, tok, 4, 3, None, "cpu", nocast)["xx"]
    assert ev["bpb"] == pytest.approx(bpb) and ev["bpb_se"] == pytest.approx(se) and ev["docs"] == 3


def test_ratio_standard_error_is_the_usual_one_for_equal_documents():
    # with equal bytes per document the delta-method error of the ratio is std(bpb_d)/sqrt(n)
    L = np.array([3.0, 5.0, 4.0, 6.0])
    B = np.full(4, 2.0)
    assert abs(evaluate_mod.ratio_se(L, B) - np.std(L / B, ddof=1) / 2) < 1e-12
    assert math.isnan(evaluate_mod.ratio_se(L[:1], B[:1]))


def test_bpb_cli_reads_every_format_and_keeps_other_sets(trun, tmp_path, capsys):
    docs = _zh_docs(8)
    (tmp_path / "ood.txt").write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    (tmp_path / "ood.jsonl").write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    (tmp_path / "ood.parquet").write_bytes(parquet_bytes(docs, 3))
    extra = os.path.join(trun, "bpb_extra.json")
    if os.path.exists(extra):
        os.remove(extra)
    outs = []
    for ext in ("txt", "jsonl", "parquet"):
        rc, out, err = main_in_process(capsys, "bpb", trun, f"--text={tmp_path / ('ood.' + ext)}", "--lang=zh", f"--name=ood_{ext}")
        assert rc == 0, err
        outs.append(out.split(":", 1)[1])
    assert outs[0] == outs[1] == outs[2] and "bits/byte" in outs[0]
    got = json.load(open(extra))
    assert set(got) == {"ood_txt", "ood_jsonl", "ood_parquet"}
    assert got["ood_txt"]["lang"] == "zh" and got["ood_txt"]["bytes"] == sum(len(d.encode()) for d in docs)
    assert set(got["ood_txt"]) == {"lang", "bpb", "se", "tokens", "bytes"}


def test_bad_input_is_one_line_and_exit_2(trun, tmp_path, capsys):
    (tmp_path / "notext.jsonl").write_text('{"body": "x"}\n')
    nockpt = tmp_path / "runs" / "half"
    nockpt.mkdir(parents=True)
    cases = [(("bpb", trun, f"--text={tmp_path / 'notext.jsonl'}", "--lang=zh"), "--text: ", "has no 'text' field"),
             (("bpb", str(tmp_path / "missing"), f"--text={tmp_path / 'notext.jsonl'}", "--lang=zh"), "--text: ", "no 'text'"),
             (("bpb", trun, "--lang=zh"), "bpb: give --text", ""),
             (("sample", str(tmp_path / "missing"), "--prompt=a"), "run: no folder", ""),
             (("sample", str(nockpt), "--prompt=a"), "checkpoint: no file", "ckpt.pt"),
             (("sample", trun, "--prompt=a", "--topk=3"), "sample: unknown option --topk", ""),
             (("sample", trun, "--prompt=a", "--device=cuda:7"), "--device: 'cuda:7' is not available", ""),
             (("bpb", trun, f"--text={tmp_path / 'notext.jsonl'}", "--lang=zh", "--max_tokens=0"), "--max_tokens: ", ""),
             (("export", str(nockpt), str(tmp_path / "hf")), "checkpoint: no file", "")]
    for args, start, has in cases:
        rc, _, err = main_in_process(capsys, *args)
        assert rc == 2 and err.startswith("error: " + start) and has in err, (args, err)
        assert len(err.strip().splitlines()) == 1 and not os.path.exists(tmp_path / "hf")
    r = run("eval.py", "bpb", trun, "--lang=zh")  # and so from the shell
    assert r.returncode == 2 and r.stderr.startswith("error: bpb: give --text")


# ----------------------------------------------------------------------------- sampling
def test_sampling_is_deterministic_under_a_seed_and_greedy_at_temperature_0(trun):
    model, cfg, tok, dev, _ = evaluate_mod.load_run(trun, "cpu")
    kw = dict(lang="en", block_size=cfg["block_size"], device=dev, max_new_tokens=40)
    a = evaluate_mod.sample(model, tok, "The river", seed=1, **kw)
    assert a == evaluate_mod.sample(model, tok, "The river", seed=1, **kw) and len(a) > 0
    assert a != evaluate_mod.sample(model, tok, "The river", seed=2, **kw)
    greedy = evaluate_mod.sample(model, tok, "The river", temperature=0, **{**kw, "max_new_tokens": 5})
    ids = [tok.meta["eot"]] + tok.enc.encode_ordinary("The river")
    with torch.no_grad():
        for _ in range(5):
            nxt = int(model(torch.tensor([ids[-cfg["block_size"]:]]))[0, -1, :tok.base_vocab].argmax())
            if nxt == tok.meta["eot"]:
                break
            ids.append(nxt)
    assert greedy == tok.decode(ids[1 + len(tok.enc.encode_ordinary("The river")):])
    r = run("eval.py", "sample", trun, "--prompt=The river", "--lang=en", "--max_new_tokens=20", "--seed=1")
    assert r.returncode == 0 and r.stdout.strip() == evaluate_mod.sample(model, tok, "The river", seed=1, **{**kw, "max_new_tokens": 20}).strip()


# ----------------------------------------------------------------------------- a whole scale
def test_downstream_scores_every_finished_run_of_a_scale(trun, tmp_path):
    import shutil
    root = tmp_path / "runs" / "mini"
    shutil.copytree(trun, root / "exp" / "scalex-en1-s1")
    (root / "exp" / "unfinished").mkdir()  # no summary.json: skipped
    task = tmp_path / "rep.jsonl"
    task.write_text("".join(json.dumps({"context": "The river. The river. The river.", "choices": [" The river.", " Qzx vkwj."],
                                        "label": 0, "lang": "en"}) + "\n" for _ in range(4)))
    text = tmp_path / "zh_ood.jsonl"
    text.write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in _zh_docs(5)), encoding="utf-8")
    r = run("eval.py", "downstream", root, f"--tasks={task}", f"--text=zh:{text}")
    assert r.returncode == 0, r.stderr
    rd = root / "exp" / "scalex-en1-s1"
    ds = json.load(open(rd / "downstream.json"))["tasks"]["rep"]
    assert ds["n"] == 4 and ds["lang"] == "en" and ds["acc"] == 1.0 and ds["acc_ci95"][0] > 0.4
    assert json.load(open(rd / "bpb_extra.json"))["zh_ood"]["lang"] == "zh"
    md = (root / "accuracy.md").read_text()
    assert "| exp/scalex-en1-s1 | **1.000** [" in md and "unfinished" not in md
    r = run("eval.py", "downstream", tmp_path / "empty")
    assert r.returncode == 2 and r.stderr.startswith("error: downstream: no folder")
