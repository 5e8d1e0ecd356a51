"""tasks.py: the multiple-choice format, its scorer, and the public-set loaders (against a
local Hub on 127.0.0.1; the internet is never contacted)."""
import contextlib
import json
import math
import os
import random

import pytest
import torch

import eval as evaluate_mod
from scalex import tasks
from scalex.configurator import ConfigError
from conftest import EN_WORDS, ZH_CHARS, parquet_bytes, run
from trained import trained_run


@pytest.fixture(scope="module")
def trun(tmp_path_factory, prepared):
    return trained_run(tmp_path_factory, prepared[0])


def repeat_task(n=12, seed=0):
    """The right choice repeats the context (words the model trained on); the wrong one is
    letter noise of the same length in bytes. A model that learned anything gets them."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        w = " ".join(rng.choice(EN_WORDS) for _ in range(4)).capitalize() + "."
        junk = " ".join("".join(rng.choice("qxzjvkw") for _ in x) for x in w[:-1].split()).capitalize() + "."
        out.append({"context": f"{w} {w} {w}", "choices": [" " + w, " " + junk], "label": 0, "lang": "en", "id": f"en{i}"})
        z = "".join(rng.choice(ZH_CHARS) for _ in range(6)) + "。"
        zjunk = "".join(rng.choice("qxzjvkw") for _ in range(18)) + "。"  # as many bytes as z
        out.append({"context": z * 3, "choices": [zjunk, z], "label": 1, "lang": "zh", "id": f"zh{i}"})
    return out


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_a_trained_model_picks_the_repeating_choice_and_the_scores_decide(trun):
    model, cfg, tok, dev, ac = evaluate_mod.load_run(trun, "cpu")
    exs = repeat_task()
    res = tasks.evaluate(model, tok, "repeat", exs, cfg["block_size"], 5, dev, ac)
    assert set(res) == {"repeat_en", "repeat_zh"}
    for r in res.values():
        assert r["n"] == 12 and r["acc"] == 1.0 and r["acc_norm"] == 1.0 and r["chance"] == 0.5
        assert r["acc_ci95"] == pytest.approx([0.7575, 1.0], abs=1e-4)  # Wilson at 12/12
    # the same examples with the label on the noise: accuracy 0 (it is the scores, not the labels, that pick)
    flipped = [{**e, "label": 1 - e["label"]} for e in exs if e["lang"] == "en"]
    r = tasks.evaluate(model, tok, "flipped", flipped, cfg["block_size"], 5, dev, ac)["flipped"]
    assert r["acc"] == 0.0 and r["acc_ci95"][1] < 0.25


def test_loglikelihood_is_the_sum_over_the_choice_tokens_batched_or_not(trun):
    model, cfg, tok, dev, _ = evaluate_mod.load_run(trun, "cpu")
    ac = contextlib.nullcontext()  # float32, as the direct computation below (load_run's may be bf16)
    reqs = [("en", "The river under the", " mountain"), ("zh", "的一是", "不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二"),
            ("en", "", " water")]
    got = tasks.loglikelihoods(model, tok, reqs, cfg["block_size"], 2, dev, ac)
    assert got == pytest.approx(tasks.loglikelihoods(model, tok, reqs, cfg["block_size"], 1, dev, ac), abs=1e-4)
    for (lang, ctx, cont), ll in zip(reqs, got):
        c = [tok.meta["eot"]] + tok.enc.encode_ordinary(ctx)
        k = tok.enc.encode_ordinary(cont)
        seq = (c + k)[-(cfg["block_size"] + 1):]  # a long one keeps its end
        nk = min(len(k), len(seq) - 1)
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([seq[:-1]]))[0], -1)
        want = sum(lp[len(seq) - 1 - nk + j - 0, seq[len(seq) - nk + j]].item() for j in range(nk))
        assert ll == pytest.approx(want, abs=1e-4)


def test_wilson_interval():
    assert tasks.wilson(0, 10)[0] == 0.0 and tasks.wilson(10, 10)[1] == 1.0
    lo, hi = tasks.wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    # the score interval's closed form (z = 1.96), which scipy's matches
    k, n, z = 7, 23, 1.959963984540054
    c, h = (k / n + z * z / (2 * n)), z * math.sqrt(k / n * (1 - k / n) / n + z * z / (4 * n * n))
    assert tasks.wilson(k, n) == pytest.approx([(c - h) / (1 + z * z / n), (c + h) / (1 + z * z / n)], abs=1e-9)


def test_task_files_are_checked(tmp_path):
    good = {"context": "a", "choices": ["b", "c"], "label": 1, "lang": "en"}
    assert tasks.load_tasks(write_jsonl(tmp_path / "ok.jsonl", [good]))["ok"] == [good]
    bad = [([{**good, "label": 2}], "label 2 is outside its 2 choices"),
           ([{**good, "choices": ["b"]}], "two or more non-empty strings"),
           ([{k: v for k, v in good.items() if k != "lang"}], "'lang' is missing"),
           ([{**good, "label": True}], "'label' is missing or not a int"),
           ([], "holds no examples")]
    for rows, msg in bad:
        with pytest.raises(ConfigError, match=msg):
            tasks.load_tasks(write_jsonl(tmp_path / "bad.jsonl", rows))
    with pytest.raises(ConfigError, match="neither a loader"):
        tasks.load_tasks("xcopa_fr")


def test_task_cli_writes_downstream_json_and_rejects_a_bad_label(trun, tmp_path):
    f = write_jsonl(tmp_path / "rep.jsonl", repeat_task(4))
    r = run("eval.py", "tasks", trun, f"--tasks={f}", "--batch_size=3")
    assert r.returncode == 0, r.stderr
    got = json.load(open(os.path.join(trun, "downstream.json")))["tasks"]
    assert got["rep_zh"]["n"] == 4 and got["rep_zh"]["acc"] == 1.0 and "acc_norm_ci95" in got["rep_en"]
    assert "**1.000** [" in r.stdout
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"context": "a", "choices": ["b", "c"], "label": 5, "lang": "en"}])
    r = run("eval.py", "tasks", trun, f"--tasks={bad}")
    assert r.returncode == 2 and r.stderr.strip() == f"error: tasks: {bad} line 1: label 5 is outside its 2 choices (0-based)"


# ----------------------------------------------------------------------------- loaders
XCOPA = [{"premise": "我的身体在草地上投下了阴影。", "choice1": "太阳正在升起。", "choice2": "草被割了。", "question": "cause", "label": 0, "idx": 1},
         {"premise": "女人容忍了她朋友的难相处的行为。", "choice1": "女人知道她的朋友正在经历一段艰难的时期。", "choice2": "女人觉得她的朋友在利用她的善良。",
          "question": "effect", "label": 1, "idx": 2}]
STORY = [{"story_id": "s1", "input_sentence_1": "Rick grew up poor.", "input_sentence_2": "He joined a gang.",
          "input_sentence_3": "He was shot.", "input_sentence_4": "He left the gang.", "sentence_quiz1": "He is happy now.",
          "sentence_quiz2": "He joined another gang.", "answer_right_ending": 1}]


def _columns(rows):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


def test_loaders_fetch_convert_and_cache(hub, tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "PARQUET_REVISION", "main")  # the local Hub serves one revision
    monkeypatch.setattr(tasks, "TASK_DIR", str(tmp_path / "cache"))
    hub.files = {("cambridgeltl/xcopa", "zh/test/0000.parquet"): _columns(XCOPA),
                 ("juletxara/xstory_cloze", "en/eval/0000.parquet"): _columns(STORY),
                 ("juletxara/xstory_cloze", "zh/train/0000.parquet"): parquet_bytes(["not this split"], 1)}
    ex = tasks.load_public("xcopa_zh")
    assert ex[0] == {"id": "1", "lang": "zh", "context": "我的身体在草地上投下了阴影，因为", "choices": ["太阳正在升起。", "草被割了。"], "label": 0}
    assert ex[1]["context"].endswith("，所以") and ex[1]["label"] == 1
    st = tasks.load_public("xstorycloze_en")
    assert st == [{"id": "s1", "lang": "en", "context": "Rick grew up poor. He joined a gang. He was shot. He left the gang.",
                   "choices": [" He is happy now.", " He joined another gang."], "label": 0}]
    sent = hub.sent[0]
    assert tasks.load_tasks("xcopa_zh,xstorycloze_en") == {"xcopa_zh": ex, "xstorycloze_en": st}  # from the cache
    assert hub.sent[0] == sent and os.path.isfile(tmp_path / "cache" / "xcopa_zh.jsonl")
    with pytest.raises(ConfigError, match="loader xstorycloze_zh cannot fetch.*no parquet file"):
        tasks.load_public("xstorycloze_zh")


def test_loader_offline_is_one_line_naming_the_loader_and_the_local_file(tmp_path):
    r = run("eval.py", "tasks", tmp_path, "--tasks=xstorycloze_zh",
            env={"HF_ENDPOINT": "http://127.0.0.1:9", "SCALEX_TASK_DIR": str(tmp_path / "t")})
    err = r.stderr.strip()
    assert r.returncode == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: tasks: loader xstorycloze_zh cannot fetch juletxara/xstory_cloze")
    assert f"put the set as a task file at {tmp_path / 't' / 'xstorycloze_zh.jsonl'}" in err
