"""configurator.py: config files, includes, overrides that derived values follow, strictness."""
import pytest

from scalex import configurator, files
from scalex.configurator import ConfigError
from conftest import write_config

DEF = {"a": 1, "budget": {"en": 10, "zh": 5}, "stages": [], "name": "x"}


def test_config_file_and_overrides(tmp_path):
    p = write_config(tmp_path / "c.py", "a = 2\nbudget = {'en': 100, 'zh': 5}\nstages = [budget['en'] * a]\n_helper = 3\n")
    cfg = configurator.load_config(p, {}, DEF)
    assert cfg == {"a": 2, "budget": {"en": 100, "zh": 5}, "stages": [200], "name": "x"}
    # an override replaces the file's assignment, and what the file derives follows it
    cfg = configurator.load_config(p, {"budget.en": 7, "a": 3}, DEF)
    assert cfg["budget"] == {"en": 7, "zh": 5} and cfg["stages"] == [21]
    cfg = configurator.load_config(p, {"name": "y"}, DEF)  # a key the file never set
    assert cfg["name"] == "y"


def test_config_include_is_relative_to_the_including_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write_config(tmp_path / "sub" / "base.py", "a = 5\n")
    write_config(tmp_path / "sub" / "mid.py", "include('base.py')\nname = 'mid'\n")
    p = write_config(tmp_path / "top.py", "include('sub/mid.py')\nstages = [a]\n")
    assert configurator.load_config(p, {"a": 9}, DEF)["stages"] == [9]


def test_config_rejects_unknown_keys(tmp_path):
    p = write_config(tmp_path / "c.py", "bogus = 1\n")
    with pytest.raises(ConfigError, match="bogus: unknown config key"):
        configurator.load_config(p, {}, DEF)
    with pytest.raises(ConfigError, match="--nope: unknown config key"):
        configurator.load_config(None, {"nope": 1}, DEF)
    with pytest.raises(ConfigError, match=r"^--budget.x.y: "):  # the key named; the wording is free
        configurator.load_config(None, {"budget.x.y": 1}, DEF)


def test_parse_args_literals():
    pos, over = configurator.parse_args(["c.py", "--a=3", "--b=1e-3", "--c={'en': 1}", "--d=hello", "--flag"])
    assert pos == ["c.py"] and over == {"a": 3, "b": 1e-3, "c": {"en": 1}, "d": "hello", "flag": True}


def test_parse_args_refuses_what_would_silently_become_a_string():
    with pytest.raises(ConfigError, match=r"--budget: cannot read \"\{'en': 1\" as a Python literal"):
        configurator.parse_args(["--budget={'en': 1"])
    with pytest.raises(ConfigError, match="not an option"):
        configurator.parse_args(["--=1"])
    assert configurator.parse_args(["-h"]) == ([], {"help": True})
    assert configurator.parse_args(["--run_name=2024run"])[1] == {"run_name": "2024run"}  # plain text stays text


def test_config_file_errors_name_the_line(tmp_path):
    p = write_config(tmp_path / "c.py", "a = 1\nb = [1,\n")
    with pytest.raises(ConfigError, match=rf"config: {p} line 2: .*fix the file"):
        configurator.load_config(p, {}, DEF)
    p = write_config(tmp_path / "c.py", "a = 1\nstages = {}['x']\n")
    with pytest.raises(ConfigError, match=rf"config: {p} line 2 raised KeyError"):
        configurator.load_config(p, {}, DEF)


def test_read_json_names_a_torn_file(tmp_path):
    (tmp_path / "x.json").write_text('{"a": [1, 2')
    with pytest.raises(ConfigError, match=r"x.json: not valid JSON .*truncated or edited; do this"):
        files.read_json(str(tmp_path / "x.json"), "do this")


def test_help_lists_each_key_with_default_meaning_and_type():
    from scalex.schema import Int, Table
    out = Table("section", ("alpha", 1, Int(1), "the first")).help()
    assert "  [section]" in out and "  --alpha=1\n      the first (a positive integer)" in out


def test_progress_in_logs_is_plain_lines(monkeypatch, capsys):
    monkeypatch.setenv("SCALEX_PROGRESS_S", "0")
    bar = files.progress(total=4, desc="train", unit="step")  # stdout is captured: not a terminal
    for _ in range(4):
        bar.update(1)
    bar.set_postfix(loss="1.000")
    bar.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("train: 1/4 step (25%)") and lines[-1].startswith("train: 4/4 step (100%)")
    assert "loss=1.000" in lines[-1] and "\r" not in "".join(lines)


def test_lock_is_exclusive_across_open_files(tmp_path):
    import fcntl
    path = str(tmp_path / ".x.lock")
    files.lock(path, "run_name: x", "wait")
    with open(path) as f:
        with pytest.raises(OSError):
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    files.unlock(path)
    with open(path) as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
