"""Bad input, every kind a user has tried: one line naming the field and the fix, exit code 2,
nothing written. Most cases fail in validation, so they run in-process (main(argv), SystemExit
caught); the few that need a trained run, a second process or make use one subprocess each.

A case is (id, script, argv built from a fixture dict, the expected start of the message
after "error: "); `damage` cases first break a copy of a prepared data dir or run dir."""
import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

import data
from scalex import prepare
import train
from conftest import train_in, ROOT, data_config, make_corpus, run, tiny_run_config, write_config

eval_mod = __import__("eval")

HAVE_CUDA = __import__("torch").cuda.is_available()


def call(main, argv, capsys):
    """(exit code, stdout, stderr) of a script's main() run in-process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, err, start):
    """Exit 2, one line, naming the key or file of `start` (the part before its first ':'):
    the wording after it is free."""
    assert code == 2, err
    assert err.startswith(f"error: {start.split(':')[0]}"), err
    assert len(err.strip().splitlines()) == 1, err


@pytest.fixture
def env(tmp_path, prepared):
    """A run config on the shared prepared data, and a data config on a fresh corpus."""
    corpus = make_corpus(str(tmp_path / "corpus"), n_en=120, n_zh=60)
    dcfg = data_config(corpus, tmp_path / "newdata", max_tokens={"en": 3000, "zh": 1000}, val_tokens=200)
    keys = ("data_dir", "local_dir", "max_tokens", "val_tokens", "test_tokens", "vocab_size", "tokenizer_sample_bytes", "shuffle_block",
            "shard_tokens", "workers")
    dconf = write_config(tmp_path / "data_cfg.py", "".join(f"{k} = {dcfg[k]!r}\n" for k in keys))
    return {"run_cfg": tiny_run_config(tmp_path, prepared[0]), "data_cfg": dconf, "tmp": tmp_path, "data": prepared[0],
            "corpus": corpus}


# ----------------------------------------------------------------------------- train.py, in-process
TRAIN = [  # (id, extra argv after the config, expected message start)
    ("eval_interval<0", ["--eval_interval=-1"], "eval_interval: must be 0 or a positive integer"),
    ("dtype", ["--dtype=float17"], "dtype: unknown value 'float17'"),
    ("warmup<0", ["--warmup_steps=-5"], "warmup_steps: must be 0 or a positive integer"),
    ("block>val", ["--block_size=2000"], "block_size: 2000 is longer than en's validation data"),
    ("kernels", ["--kernels=foo"], "kernels: unknown value 'foo'"),
    ("model", ["--model=huge"], "model: unknown preset 'huge'"),
    ("model_args key", ["--model_args={'foo':1}"], "model_args.foo: unknown model setting"),
    ("model_args value", ["--model_args={'n_layer': 0}"], "model_args.n_layer: must be a positive int"),
    ("model_args heads", ["--model_args={'d_model': 30, 'n_head': 4}"], "model_args.d_model: 30 is not a multiple of n_head 4"),
    ("model_args kv", ["--model_args={'n_head': 4, 'n_kv_head': 3}"], "model_args.n_kv_head"),
    ("model_args type", ["--model_args=[1]"], "model_args: must be a dict"),
    ("seed", ["--seed=abc"], "seed: must be an integer, got 'abc'"),
    ("seed<0", ["--seed=-1"], "seed: must be an integer in [0, 2**63)"),
    ("betas one", ["--betas=[0.9]"], "betas: give two numbers in [0, 1)"),
    ("betas range", ["--betas=[0.9, 1.5]"], "betas: give two numbers in [0, 1)"),
    ("device", ["--device=tpu"], "device: unknown device 'tpu'"),
    ("hrl", ["--hrl=fr"], "hrl: 'fr' is not a language of this run"),
    ("lrl", ["--lrl=ja"], "lrl: 'ja' is not a language of this run"),
    ("grad_clip", ["--grad_clip=x"], "grad_clip: must be a number, got 'x'"),
    ("grad_clip<0", ["--grad_clip=-1"], "grad_clip: must be a number >= 0"),
    ("budget typo", ["--budget.en=6e4x"], "budget.en: must be a positive integer of tokens, got '6e4x'"),
    ("budget bracket", ["--budget={'en': 1"], "--budget: cannot read \"{'en': 1\" as a Python literal"),
    ("budget bool", ["--budget.zh=True"], "budget.zh: must be a positive integer"),
    ("budget list", ["--budget=[1]"], "budget: must be a dict"),
    ("budget > data", ["--budget.en=10000000"], "budget.en: 10,000,000 tokens asked"),
    ("budget < window", ["--budget.zh=20"], "budget.zh: 20 tokens hold no window"),
    ("stages dict", ["--stages={}"], "stages: must be a list"),
    ("stage lr_to", ["--stages=[{'lr': 'cosine', 'tokens': {'en': 100}, 'lr_to': 'x'}]"], "stages[0].lr_to: must be a number"),
    ("stage field", ["--stages=[{'lr': 'cosine', 'tokens': {'en': 100}, 'warm': 1}]"], "stages[0].warm: unknown stage field"),
    ("stage lang", ["--stages=[{'lr': 'cosine', 'tokens': {'fr': 100}}]"], "stages[0]: unknown language 'fr'"),
    ("lr_max text", ["--lr_max=abc"], "lr_max: must be a number, got 'abc'"),
    ("lr_max<0", ["--lr_max=-1"], "lr_max: must be a number >= 0"),
    ("lr_max nan", ["--lr_max=float('nan')"], "lr_max: must be a number"),
    ("lr_min>lr_max", ["--lr_min=1"], "lr_min: 1 is above lr_max"),
    ("weight_decay", ["--weight_decay=-0.1"], "weight_decay: must be a number >= 0"),
    ("batch float", ["--batch_size=2.5"], "batch_size: must be an integer, got 2.5"),
    ("grad_accum 0", ["--grad_accum=0"], "grad_accum: must be a positive integer"),
    ("log_interval 0", ["--log_interval=0"], "log_interval: must be a positive integer"),
    ("ckpt_interval<0", ["--ckpt_interval=-3"], "ckpt_interval: must be a positive integer"),
    ("eval_tokens 0", ["--eval_tokens=0"], "eval_tokens: must be a positive integer"),
    ("vocab<0", ["--vocab_size=-1"], "vocab_size: must be 0 or a positive integer"),
    ("vocab small", ["--vocab_size=100"], "vocab_size: 100 does not cover the data's 320 token ids"),
    ("compile", ["--compile=yes"], "compile: must be True or False, got 'yes'"),
    ("log_samples", ["--log_samples=1"], "log_samples: must be True or False, got 1"),
    ("run_name up", ["--run_name=../escape"], "run_name: '../escape' must be a relative path"),
    ("run_name abs", ["--run_name=/abs/x"], "run_name: '/abs/x' must be a relative path"),
    ("method", ["--method=3"], "method: must be a string (a recipe name), got 3"),
    ("unknown key", ["--nope=1"], "--nope: unknown config key 'nope'"),
    ("bad option", ["--=3"], "--=3: not an option"),
    ("flag value", ["--dry_run=3"], "--dry_run: a flag takes no value"),
    ("resume+overwrite", ["--resume", "--overwrite"], "--resume and --overwrite: pick one"),
    ("allow alone", ["--allow=lr_max"], "--allow: give --resume --allow=KEY"),
    ("allow plan key", ["--resume", "--allow=budget"], "--allow: budget cannot change in a resumed run"),
    ("no data", ["--data_dir=/nonexistent"], "data_dir: '/nonexistent' is not prepared"),
    ("wandb missing", ["--wandb_log=True"], "wandb_log: the wandb package is not installed"),
    ("tensorboard missing", ["--tensorboard=True"], "tensorboard: the tensorboard package is not installed"),
    ("cuda missing", ["--device=cuda"], "device: cuda asked, this machine has 0 CUDA device(s)"),
]


@pytest.mark.parametrize("extra,msg", [c[1:] for c in TRAIN], ids=[c[0] for c in TRAIN])
def test_train_bad_input(env, capsys, extra, msg):
    import importlib.util
    if ("wandb" in msg and importlib.util.find_spec("wandb")) or ("tensorboard" in msg and importlib.util.find_spec("tensorboard")) \
            or ("cuda" in msg and HAVE_CUDA):
        pytest.skip("the package or device is present here")
    code, _, err = call(train.main, [env["run_cfg"], *extra], capsys)
    assert_one_line(code, err, msg)
    assert not os.path.exists(env["tmp"] / "runs"), "bad input must not write anything"


CONFIG_FILES = [  # (id, config file text, expected message start)
    ("syntax", "batch_size = (\n", "config: {path} line 1"),
    ("raises", "x = 1\nbatch_size = 1 / 0\n", "config: {path} line 2 raised ZeroDivisionError"),
    ("unknown", "bogus = 1\n", "bogus: unknown config key"),
    ("name error", "batch_size = undefined_name\n", "config: {path} line 1 raised NameError"),
    ("bad include", "include('nope.py')\n", "config: no such file"),
    ("not utf8", b"x = '\xff'\n", "config: {path}"),
]


@pytest.mark.parametrize("text,msg", [c[1:] for c in CONFIG_FILES], ids=[c[0] for c in CONFIG_FILES])
def test_config_file_errors(tmp_path, capsys, text, msg):
    path = tmp_path / "c.py"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for main in (train.main, lambda a: data.main(["prepare", *a])):
        code, _, err = call(main, [path], capsys)
        assert_one_line(code, err, msg.format(path=path))


def test_usage_errors(capsys, tmp_path):
    assert_one_line(*call(train.main, [], capsys)[::2], "config: give one config file, got 0")
    assert_one_line(*call(train.main, [tmp_path / "a.py", tmp_path / "b.py"], capsys)[::2], "config: give one config file, got 2")
    assert_one_line(*call(train.main, [tmp_path / "missing.py"], capsys)[::2], "config: no such file")
    assert_one_line(*call(data.main, [], capsys)[::2], "command: give prepare CONFIG")
    assert_one_line(*call(data.main, ["prepare", tmp_path / "a.py", "extra"], capsys)[::2], "command: give prepare CONFIG")
    assert_one_line(*call(eval_mod.main, [], capsys)[::2], "command: give RUN_DIR")
    assert_one_line(*call(eval_mod.main, [tmp_path, "--eval_tokens=abc"], capsys)[::2], "--eval_tokens: must be a positive integer")


# ----------------------------------------------------------------------------- data.py, in-process
DATA = [  # (id, extra argv after `prepare CONFIG`, expected message start)
    ("val_tokens bool", ["--val_tokens=True"], "val_tokens: must be an integer, got True"),
    ("val_tokens 0", ["--val_tokens=0"], "val_tokens: must be a positive integer"),
    ("max_tokens text", ["--max_tokens.en=x"], "max_tokens.en: must be a positive integer"),
    ("max_tokens keys", ["--max_tokens={'en': 5}"], "max_tokens: give one entry per language"),
    ("tokenizer", ["--tokenizer=foo"], "tokenizer: unknown 'foo'"),
    ("workers", ["--workers=-1"], "workers: must be 0"),
    ("seed", ["--seed=abc"], "seed: must be an integer, got 'abc'"),
    ("languages list", ["--languages=[]"], "languages: must be a dict"),
    ("languages empty", ["--languages={}"], "languages: give a dict"),
    ("language source", ["--languages={'en': 3, 'zh': 'x'}", "--max_tokens={'en': 5, 'zh': 5}"], "languages.en: give a source"),
    ("language name", ["--languages={'e n': 'x'}", "--max_tokens={'e n': 5}"], "languages: 'e n' is not a valid language name"),
    ("local_dir", ["--local_dir=/nonexistent"], "local_dir: '/nonexistent' is not a folder"),
    ("shuffle_block", ["--shuffle_block=0"], "shuffle_block: must be a positive integer"),
    ("vocab small", ["--vocab_size=100"], "vocab_size: must exceed 257"),
    ("hf_revision", ["--hf_revision=3"], "hf_revision: must be a string, got 3"),
    ("data_dir", ["--data_dir=3"], "data_dir: must be a string"),
    ("unknown key", ["--budget=3"], "--budget: unknown config key"),
    ("override bracket", ["--max_tokens={'en': 5"], "--max_tokens: cannot read"),
]


@pytest.mark.parametrize("extra,msg", [c[1:] for c in DATA], ids=[c[0] for c in DATA])
def test_data_bad_input(env, capsys, extra, msg):
    code, _, err = call(data.main, ["prepare", env["data_cfg"], *extra], capsys)
    assert_one_line(code, err, msg)
    assert not os.path.exists(env["tmp"] / "newdata")


def _write_jsonl(path, records):
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


@pytest.mark.parametrize("case", ["text not a string", "no text field", "record not an object", "empty corpus", "broken gzip"])
def test_bad_corpus_files(env, capsys, case):
    en = os.path.join(env["corpus"], "en.jsonl")
    if case == "text not a string":
        _write_jsonl(en, [{"text": "fine"}, {"text": ["a", "list"]}])
        msg = f"languages: {en} record 2: 'text' is list, not a string"
    elif case == "no text field":
        _write_jsonl(en, [{"body": "x"}])
        msg = f"languages: {en} record 1 has no 'text' field"
    elif case == "record not an object":
        _write_jsonl(en, ["just a string"])
        msg = f"languages: {en} record 1 has no 'text' field"
    elif case == "empty corpus":  # the source is to blame, not val_tokens
        _write_jsonl(en, [{"text": ""}, {"text": ""}])
        msg = "languages.en: the source"
    else:
        zh = os.path.join(env["corpus"], "zh.jsonl.gz")
        open(zh, "wb").write(b"\x1f\x8b not gzip at all" * 10)
        msg = f"languages: {zh} is corrupt"
    code, _, err = call(data.main, ["prepare", env["data_cfg"]], capsys)
    assert_one_line(code, err, msg)


def test_advice_does_not_loop_max_tokens(env, capsys):
    """max_tokens above the source names the figure to use; that figure is then accepted."""
    code, _, err = call(data.main, ["prepare", env["data_cfg"], "--max_tokens.zh=10000000"], capsys)
    assert_one_line(code, err, "max_tokens.zh: the source holds only")
    fix = err.split("set ")[1].split(" ")[0]  # --max_tokens.zh=N
    code, out, err = call(data.main, ["prepare", env["data_cfg"], fix], capsys)
    assert code == 0, err
    m = data.load_manifest(str(env["tmp"] / "newdata"))
    assert m["languages"]["zh"]["train"]["tokens"] == int(fix.split("=")[1])


def test_advice_does_not_loop_val_tokens(env, capsys):
    code, _, err = call(data.main, ["prepare", env["data_cfg"], "--val_tokens=10000000"], capsys)
    assert_one_line(code, err, "val_tokens: language 'en' has only")
    assert "delete" in err  # the prepared-with check would refuse the lowered value otherwise
    shutil.rmtree(env["tmp"] / "newdata")
    assert call(data.main, ["prepare", env["data_cfg"], "--val_tokens=200"], capsys)[0] == 0


def test_damaged_data_dir_advice_does_not_loop(env, capsys, tmp_path, corpus):
    d = tmp_path / "copy"
    shutil.copytree(env["data"], d)
    shard = d / "en" / "train-00000.bin"
    shard.write_bytes(shard.read_bytes()[:-3])
    code, _, err = call(train.main, [env["run_cfg"], f"--data_dir={d}"], capsys)
    assert_one_line(code, err, "data_dir:")
    assert f"delete {d} and prepare it again" in err
    # prepare on it says the same (before, it said "up to date" or "prepare again", which it then refused)
    cfg = data_config(corpus, d)
    with pytest.raises(prepare.ConfigError, match=f"delete {d} and prepare it again"):
        prepare.prepare(cfg, log=lambda *a: None)


@pytest.mark.parametrize("name,blob,msg", [
    ("manifest.json", '{"languages": {"en"', "{d}/manifest.json: not valid JSON"),
    ("manifest.json", "[1, 2]", "{d}/manifest.json: not a scalex manifest"),
    ("manifest.json", "", "{d}/manifest.json: not valid JSON"),
])
def test_truncated_manifest(env, capsys, tmp_path, name, blob, msg):
    d = tmp_path / "copy"
    shutil.copytree(env["data"], d)
    (d / name).write_text(blob)
    code, _, err = call(train.main, [env["run_cfg"], f"--data_dir={d}"], capsys)
    assert_one_line(code, err, msg.format(d=d))
    assert "delete" in err and "prepare it again" in err


def test_data_dir_lock_and_leftover_temp_files(env, capsys, monkeypatch):
    from scalex.configurator import load_config
    d = env["tmp"] / "newdata"
    with monkeypatch.context() as m:  # a preparation killed while writing its first train shard
        m.setattr(prepare, "_prepare_train", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            prepare.prepare(load_config(env["data_cfg"], {}, prepare.DEFAULTS), log=lambda *a: None)
    leftover = d / "en" / "train-00000.bin.tmp4242"
    leftover.write_bytes(b"half a shard")
    lockfile = env["tmp"] / ".newdata.lock"
    with open(lockfile, "a+") as f:  # another process preparing it (flock conflicts across open files)
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = call(data.main, ["prepare", env["data_cfg"]], capsys)
        assert_one_line(code, err, f"data_dir: {d}: in use by")
        assert leftover.exists()
    code, _, err = call(data.main, ["prepare", env["data_cfg"]], capsys)
    assert code == 0, err
    assert not glob.glob(str(d / "**" / "*.tmp*"), recursive=True)


# ----------------------------------------------------------------------------- run directories
@pytest.fixture(scope="module")
def trained(tmp_path_factory, prepared):
    """One finished tiny run, trained once for this file, started the way a user does: from a
    project folder with relative data_dir and out_dir."""
    home = tmp_path_factory.mktemp("home")
    os.makedirs(home / "data")
    os.symlink(prepared[0], home / "data" / "tiny")
    cfg = tiny_run_config(home, "data/tiny")  # home/run.py
    write_config(cfg, open(cfg).read().replace(repr(str(home / "runs")), "'runs'"))
    train_in(home)
    return home


@pytest.fixture
def finished(trained, tmp_path, monkeypatch):
    """A private copy of the trained run's project folder, as the working directory."""
    home = tmp_path / "home"
    shutil.copytree(trained, home, symlinks=True)
    monkeypatch.chdir(home)
    return {"cfg": "run.py", "rd": home / "runs" / "t", "home": home}


def test_run_dir_misuse(env, finished, capsys, tmp_path):
    cfg, finished = finished["cfg"], finished["rd"]
    # existing run, no flag
    assert_one_line(*call(train.main, [cfg], capsys)[::2], "run_name: ")
    # a finished run with a changed config is refused like an unfinished one (make would reuse it)
    assert_one_line(*call(train.main, [cfg, "--resume", "--lr_max=1e-2"], capsys)[::2], "lr_max: ")
    assert_one_line(*call(train.main, [cfg, "--resume", "--allow=lr_max", "--lr_max=1e-2"], capsys)[::2], "lr_max: ")
    # unchanged: nothing to do
    code, out, _ = call(train.main, [cfg, "--resume"], capsys)
    assert code == 0 and "already finished" in out
    # another data dir (same path, re-prepared) under a finished or unfinished run
    d = tmp_path / "other"
    shutil.copytree(env["data"], d)
    m = json.loads((d / "manifest.json").read_text())
    m["created"] = "another time"  # prepared again, byte for byte: the same data
    (d / "manifest.json").write_text(json.dumps(m))
    rec = json.loads((finished / "config.json").read_text())
    rec["config"]["data_dir"] = str(d)
    (finished / "config.json").write_text(json.dumps(rec))
    code, out, err = call(train.main, [cfg, "--resume", f"--data_dir={d}"], capsys)
    assert code == 0 and "already finished" in out, err
    m["languages"]["en"]["train"]["shards"][0]["sha256"] = "0" * 64  # other data
    (d / "manifest.json").write_text(json.dumps(m))
    assert_one_line(*call(train.main, [cfg, "--resume", f"--data_dir={d}"], capsys)[::2], f"data_dir: {d} changed since")
    # torn or foreign run records
    for blob, msg in (("{\"config\": {", "config.json: not valid JSON"), ("[]", "config.json: not a run record")):
        (finished / "config.json").write_text(blob)
        code, _, err = call(train.main, [cfg, "--resume"], capsys)
        assert_one_line(code, err, "runs/t/" + msg.split(":")[0])
        assert msg.split(": ", 1)[1] in err


def test_resume_with_allowed_changes_is_recorded(finished, capsys):
    """The documented way to continue with other optimiser settings: --resume --allow=..."""
    cfg, finished = finished["cfg"], finished["rd"]
    os.remove(finished / "summary.json")  # as if killed after its last checkpoint
    assert_one_line(*call(train.main, [cfg, "--resume", "--lr_max=1e-4", "--lr_min=1e-5"], capsys)[::2], "lr_max: ")
    code, out, err = call(train.main, [cfg, "--resume", "--allow=lr_max,lr_min", "--lr_max=1e-4", "--lr_min=1e-5"], capsys)
    assert code == 0, err
    rec = json.loads((finished / "config.json").read_text())
    assert rec["config"]["lr_max"] == 1e-4
    assert rec["resumes"][-1]["changed"] == {"lr_max": {"from": 3e-3, "to": 1e-4}, "lr_min": {"from": 3e-4, "to": 1e-5}}
    # the run record knows what else the numbers depend on
    assert rec["python"] and "torch" in rec["packages"] and "cuda" in rec and rec["cwd"]
    # ... and keeps no absolute path or host: cwd is relative to the run dir
    assert not os.path.isabs(rec["cwd"]) and os.path.samefile(os.path.join(finished, rec["cwd"]), os.getcwd())
    assert rec["platform"].count(" ") == 1


def test_garbled_metrics_and_torn_last_line(finished, capsys):
    cfg, finished = finished["cfg"], finished["rd"]
    os.remove(finished / "summary.json")
    lines = (finished / "metrics.jsonl").read_text().splitlines()
    (finished / "metrics.jsonl").write_text("\n".join(lines[:3] + ['{"step": 4, "lo'] + lines[4:]) + "\n")
    code, _, err = call(train.main, [cfg, "--resume"], capsys)
    assert_one_line(code, err, "runs/t/metrics.jsonl: line 4")
    # a torn last line (killed mid-write) is not an error: it lies after the checkpoint
    (finished / "metrics.jsonl").write_text("\n".join(lines) + '\n{"step": 99, "lo')
    code, _, err = call(train.main, [cfg, "--resume"], capsys)
    assert code == 0, err


def test_run_lock_and_overwrite_twice(finished, capsys):
    cfg, finished = finished["cfg"], finished["rd"]
    with open(finished.parent / ".t.lock", "a+") as f:  # another process trains this run
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for extra in ([], ["--resume"], ["--overwrite"]):
            assert_one_line(*call(train.main, [cfg, *extra], capsys)[::2], "run_name: runs/t: in use by")
    assert os.path.isfile(finished / "summary.json")  # untouched
    # two --overwrite within the same second: the second aside name exists, both old runs are kept
    for _ in range(2):
        os.makedirs(finished, exist_ok=True)
        (finished / "marker").write_text("mine")
        code, _, err = call(train.main, [cfg, "--overwrite", "--dry_run"], capsys)  # dry run: no aside
        assert code == 0, err
    from scalex.rundir import _lock_path, prepare_run_dir
    from train import DEFAULTS, resolve_config
    c = resolve_config(cfg, {})
    flags = {"resume": False, "overwrite": True, "allow": False}
    from scalex.files import unlock
    for _ in range(2):
        os.makedirs(finished, exist_ok=True)
        (finished / "marker").write_text("mine")
        assert prepare_run_dir(c, flags, None, DEFAULTS) == "new"
        unlock(_lock_path(c))
    assert len(glob.glob(str(finished) + ".old-*")) == 2


def test_eval_from_another_directory_and_truncated_summary(finished, tmp_path, capsys):
    # the run was started with a relative data_dir from its own project folder
    home, finished = finished["home"], finished["rd"]
    elsewhere = tmp_path / "elsewhere"
    os.makedirs(elsewhere)
    r = run("eval.py", home / "runs" / "t", cwd=elsewhere)
    assert r.returncode == 0 and "bits/byte" in r.stdout, r.stderr
    # report: a torn summary.json is one line naming it
    (finished / "summary.json").write_text('{"run_name": ')
    code, _, err = call(eval_mod.main, ["report", finished.parent], capsys)
    assert_one_line(code, err, f"{finished / 'summary.json'}: not valid JSON")
    assert_one_line(*call(eval_mod.main, [tmp_path / "nope"], capsys)[::2], "run: no folder")


def test_tracking_hooks_mirror_metrics(env, capsys, monkeypatch):
    """wandb_log=True with a stand-in wandb module: every logged record reaches it, flattened."""
    import types
    logged = []
    fake = types.SimpleNamespace(init=lambda **kw: logged.append(("init", kw["project"])),
                                 log=lambda rec, step: logged.append((step, rec)), finish=lambda: logged.append("finish"))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setattr(train, "check_tracking", lambda cfg: None)
    code, _, err = call(train.main, [env["run_cfg"], "--wandb_log=True"], capsys)
    assert code == 0, err
    assert logged[0] == ("init", "scalex")
    assert logged.pop() == "finish"  # the W&B run is finished, once, at the end
    steps = [s for s, rec in logged[1:] if "loss" in rec]
    assert steps == list(range(1, 33)) and "train_loss/en" in logged[1][1] and "val_bpb/zh" in logged[-1][1]


# ----------------------------------------------------------------------------- make and --help
def test_make_rejects_bad_sizes_in_one_line():
    r = subprocess.run(["make", "-n", "quickstart", "SEEDS=abc"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "SEEDS: give whole numbers" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "PY " not in r.stdout and ":=" not in r.stdout and "smoke" in r.stdout


@pytest.mark.parametrize("script", ["train", "data"])
def test_help_lists_every_key_with_default_and_comment(script, capsys):
    mod = {"train": train, "data": data}[script]
    code, out, _ = call(mod.main, ["--help"], capsys)
    assert code in (0, None) and "python " in out
    for k in (train.DEFAULTS if script == "train" else prepare.DEFAULTS):
        assert f"--{k}=" in out, k
    if script == "train":
        assert '--eval_interval=0\n      steps between per-language validations (learning curves); 0: only at the end' in out
    code, out, _ = call(eval_mod.main, ["--help"], capsys)
    assert "eval.py" in out and "scalex-en200000-s1337" in out


def test_validation_runs_before_torch_is_imported(env):
    """Every train.py/data.py case above except the device check fails before torch loads:
    one subprocess runs them all and checks sys.modules after each."""
    cases = [[env["run_cfg"], *extra] for _, extra, msg in TRAIN if "cuda" not in msg]
    cases += [["prepare", env["data_cfg"], *extra] for _, extra, _ in DATA]
    code = f"""
import io, json, sys, contextlib
sys.path.insert(0, {ROOT!r})
import train, data
for argv in json.loads({json.dumps(json.dumps(cases))}):
    main = data.main if argv[0] == "prepare" else train.main
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as e:
            assert e.code == 2, (argv, e.code)
    assert "torch" not in sys.modules, ("torch imported by", argv)
print("ok", len(sys.argv))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr[-2000:]
