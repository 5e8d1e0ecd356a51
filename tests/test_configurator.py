"""configurator.py: config files, includes, overrides that derived values follow, strictness."""
import pytest

import configurator
from configurator import ConfigError
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
    with pytest.raises(ConfigError, match="has no entry 'x'"):
        configurator.load_config(None, {"budget.x.y": 1}, DEF)


def test_parse_args_literals():
    pos, over = configurator.parse_args(["c.py", "--a=3", "--b=1e-3", "--c={'en': 1}", "--d=hello", "--flag"])
    assert pos == ["c.py"] and over == {"a": 3, "b": 1e-3, "c": {"en": 1}, "d": "hello", "flag": True}
