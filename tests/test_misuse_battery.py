"""A battery of bad inputs a user could make, none of them cases of test_misuse.py: config
files, command lines, data dirs, corpus files, checkpoints, run dirs, eval/export/tasks
options, sweep and make variables. Every case runs in a private copy of a project folder (a
finished tiny run, its prepared data, a data config) and is classified: a one-line error with
exit code 2, a traceback, a wrong exit code, or a silent success; and every file the folder
held before must be byte-identical after. test_battery_table prints the tally.

A case is (id, setup, script, argv, expected start of the message after "error: ").
`setup(home)` breaks something first; argv is relative to the project folder."""
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest

import data
import sweep
import train
from conftest import train_in, ROOT, data_config, tiny_run_config, write_config

eval_mod = __import__("eval")
MAINS = {"train": train.main, "data": data.main, "eval": eval_mod.main, "sweep": sweep.main}
OUTCOMES = {}  # case id -> (outcome, exit code, files lost)


# ----------------------------------------------------------------------------- the project folder
@pytest.fixture(scope="module")
def project(tmp_path_factory, prepared, corpus):
    """A project folder with a finished run (relative data_dir and out_dir), trained once."""
    home = tmp_path_factory.mktemp("battery")
    shutil.copytree(prepared[0], home / "data" / "tiny")
    cfg = tiny_run_config(home, "data/tiny")
    write_config(cfg, open(cfg).read().replace(repr(str(home / "runs")), "'runs'"))
    dcfg = data_config(corpus, "newdata", max_tokens={"en": 3000, "zh": 1000}, val_tokens=200)
    keys = ("data_dir", "local_dir", "max_tokens", "val_tokens", "test_tokens", "vocab_size", "tokenizer_sample_bytes", "shuffle_block",
            "shard_tokens", "workers")
    write_config(home / "data_cfg.py", "".join(f"{k} = {dcfg[k]!r}\n" for k in keys))
    train_in(home)
    return home


@pytest.fixture
def home(project, tmp_path, monkeypatch):
    h = tmp_path / "home"
    shutil.copytree(project, h)
    monkeypatch.chdir(h)
    return h


def snapshot(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".lock"):
                p = os.path.join(dirpath, f)
                out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


# ----------------------------------------------------------------------------- setups
def run_cfg(extra):
    """run.py with `extra` appended, as c.py."""
    return lambda h: write_config(h / "c.py", open(h / "run.py").read() + extra)


def data_cfg(extra):
    return lambda h: write_config(h / "d.py", open(h / "data_cfg.py").read() + extra)


def raw_file(name, blob):
    def setup(h):
        os.makedirs(os.path.dirname(h / name) or ".", exist_ok=True)
        (h / name).write_bytes(blob if isinstance(blob, bytes) else blob.encode())
    return setup


def edit_json(name, fn):
    def setup(h):
        obj = json.loads((h / name).read_text())
        fn(obj)
        (h / name).write_text(json.dumps(obj))
    return setup


def flip_tokens(h, name="data/tiny/en/train-00000.bin", frac=0.2):
    """Corrupt a fifth of a shard's token ids, keeping its size."""
    p = h / name
    b = bytearray(p.read_bytes())
    for i in range(256, len(b), int(2 / frac)):
        b[i] ^= 0x5A
    p.write_bytes(bytes(b))


class Boom:
    """What a crafted checkpoint unpickles to: a call that would leave a file behind."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def crafted_ckpt(h):
    """A checkpoint whose unpickling runs code, with a valid-looking checksum tail."""
    import io

    import torch

    from scalex.rundir import CKPT_MAGIC
    buf = io.BytesIO()
    torch.save({"model": {}, "config": {}, "step": 0, "x": Boom()}, buf)
    body = buf.getvalue()
    (h / "runs/t/ckpt.pt").write_bytes(body + CKPT_MAGIC + hashlib.sha256(body).hexdigest().encode())


def own_user_folder(h):
    """A folder of the user's given as data_dir: files prepare must not touch."""
    os.makedirs(h / "newdata" / "notes")
    (h / "newdata" / "tokenizer.json").write_text('{"mine": true}')
    (h / "newdata" / "notes" / "draft.tmp1").write_text("my draft")
    (h / "newdata" / "paper.txt.tmp42").write_text("my paper")


def code_changed(h):
    rec = json.loads((h / "runs/t/config.json").read_text())
    rec["code"]["files_sha256"]["model.py"] = "0" * 64
    (h / "runs/t/config.json").write_text(json.dumps(rec))
    os.remove(h / "runs/t/summary.json")


def unfinished(h):
    os.remove(h / "runs/t/summary.json")


def foreign_ckpt(h):
    """Another run's checkpoint (other seed and settings) copied into this run."""
    import torch
    ck = torch.load(h / "runs/t/ckpt.pt", weights_only=True)
    ck["config"] = dict(ck["config"], seed=7, lr_max=0.5)
    ck["step"] = 293
    from scalex.rundir import save_checkpoint
    save_checkpoint(str(h / "runs/t/ckpt.pt"), ck)
    os.remove(h / "runs/t/summary.json")


def no_record_changed(h):
    os.remove(h / "runs/t/config.json")
    os.remove(h / "runs/t/summary.json")


def both(*fns):
    return lambda h: [f(h) for f in fns]


def bad_corpus(files):
    def setup(h):
        os.makedirs(h / "bc")
        for name, blob in files.items():
            (h / "bc" / name).write_bytes(blob)
        write_config(h / "d.py", open(h / "data_cfg.py").read() + "local_dir = 'bc'\n")
    return setup


TASK = json.dumps({"context": "a", "choices": ["b", "c"], "label": 0, "lang": "en"})

R, D = "runs/t", "data/tiny"
CASES = [
    # ---- train.py: config files
    ("cfg colon", run_cfg("lr_max: 1e-3\n"), "train", ["c.py"], "config: c.py line"),
    ("cfg json dict", run_cfg('{"lr_max": 1e-3}\n'), "train", ["c.py"], "config: c.py line"),
    ("cfg .json", raw_file("c.json", '{"lr_max": 0.001}'), "train", ["c.json"], "config: c.json is JSON"),
    ("cfg comparison", run_cfg("batch_size == 4\n"), "train", ["c.py"], "config: c.py line"),
    ("cfg syntax", run_cfg("batch_size = (\n"), "train", ["c.py"], "config: c.py line"),
    ("cfg indent", run_cfg("  batch_size = 4\n"), "train", ["c.py"], "config: c.py line"),
    ("cfg typo key", run_cfg("bacth_size = 4\n"), "train", ["c.py"], "bacth_size: unknown config key"),
    ("cfg budget str", run_cfg('budget = {"en": "lots", "zh": 6000}\n'), "train", ["c.py"], "budget.en"),
    ("cfg stages str", run_cfg('stages = "hrl"\n'), "train", ["c.py"], "stages: must be a list"),
    ("cfg d_model str", run_cfg('model_args = {"d_model": "big"}\n'), "train", ["c.py"], "model_args.d_model"),
    ("cfg block 0", run_cfg("block_size = 0\n"), "train", ["c.py"], "block_size"),
    ("cfg batch<0", run_cfg("batch_size = -1\n"), "train", ["c.py"], "batch_size"),
    ("cfg lr str", run_cfg('lr_max = "1e-3"\n'), "train", ["c.py"], "lr_max"),
    ("cfg missing include", run_cfg("include('common.py')\n"), "train", ["c.py"], "config: no such file"),
    ("cfg nul byte", raw_file("c.py", b"batch_size = 4\x00\n"), "train", ["c.py"], "config: c.py"),
    ("cfg directory", lambda h: os.makedirs(h / "cdir.py"), "train", ["cdir.py"], "config: no such file"),
    ("cfg missing", None, "train", ["nope.py"], "config: no such file"),
    ("cfg out_dir int", run_cfg("out_dir = 3\n"), "train", ["c.py"], "out_dir"),
    ("cfg run_name dots", run_cfg('run_name = "a/../b"\n'), "train", ["c.py"], "run_name"),
    ("cfg seed float", run_cfg("seed = 1.5\n"), "train", ["c.py"], "seed"),
    ("cfg dtype", run_cfg('dtype = "fp8"\n'), "train", ["c.py"], "dtype"),
    ("cfg lr_min<0", run_cfg("lr_min = -1\n"), "train", ["c.py"], "lr_min"),
    ("cfg data_dir int", run_cfg("data_dir = 5\n"), "train", ["c.py"], "data_dir"),
    ("cfg stages empty", run_cfg("stages = []\n"), "train", ["c.py"], "method: missing"),
    ("cfg stage lr", run_cfg('stages = [{"lr": "zigzag", "tokens": {"en": 100}}]\n'), "train", ["c.py"], "stages[0].lr"),
    ("cfg stage tokens<0", run_cfg('stages = [{"lr": "cosine", "tokens": {"en": -5}}]\n'), "train", ["c.py"], "stages[0]"),
    ("cfg require", run_cfg('require(batch_size > 100, "batch_size: too small; raise it")\n'), "train", ["c.py"], "batch_size: too small"),
    # ---- train.py: command line
    ("cli budget lang", None, "train", ["run.py", "--budget.fr=1000"], "budget.fr: unknown language"),
    ("cli budget 0", None, "train", ["run.py", "--budget.en=0"], "budget.en"),
    ("cli block text", None, "train", ["run.py", "--block_size=abc"], "block_size"),
    ("cli batch 0", None, "train", ["run.py", "--batch_size=0"], "batch_size"),
    ("cli accum<0", None, "train", ["run.py", "--grad_accum=-1"], "grad_accum"),
    ("cli lr flag", None, "train", ["run.py", "--lr_max"], "lr_max"),
    ("cli resume value", None, "train", ["run.py", "--resume=yes"], "--resume"),
    ("cli allow code alone", None, "train", ["run.py", "--allow=code"], "--allow"),
    ("cli allow bogus", None, "train", ["run.py", "--resume", "--allow=bogus"], "--allow: bogus"),
    ("cli run_name hidden", None, "train", ["run.py", "--run_name=.hidden"], "run_name"),
    ("cli data_dir empty", None, "train", ["run.py", "--data_dir="], "data_dir"),
    ("cli eval_interval", None, "train", ["run.py", "--eval_interval=abc"], "eval_interval"),
    ("cli weight_decay", None, "train", ["run.py", "--weight_decay=abc"], "weight_decay"),
    ("cli kernels empty", None, "train", ["run.py", "--kernels="], "kernels"),
    ("cli device cuda:7", None, "train", ["run.py", "--device=cuda:7"], "device"),
    ("cli hrl empty", None, "train", ["run.py", "--hrl="], "hrl"),
    ("cli vocab text", None, "train", ["run.py", "--vocab_size=abc"], "vocab_size"),
    ("cli log_interval float", None, "train", ["run.py", "--log_interval=1.5"], "log_interval"),
    ("cli betas tuple", None, "train", ["run.py", "--betas=(0.9,)"], "betas"),
    ("cli two configs", None, "train", ["run.py", "run.py"], ""),
    ("cli nested unknown", None, "train", ["run.py", "--model_args.foo=1"], "model_args.foo: unknown model setting"),
    ("cli budget nested", None, "train", ["run.py", "--budget.en.x=1"], "--budget.en.x"),
    ("cli out_dir file", raw_file("afile", "x"), "train", ["run.py", "--out_dir=afile/runs"], "run_name: afile/runs"),
    # ---- data.py
    ("data user folder", both(own_user_folder, data_cfg("")), "data", ["prepare", "d.py"], "data_dir: newdata already holds"),
    ("data dir is file", both(raw_file("newdata", "x"), data_cfg("")), "data", ["prepare", "d.py"], "data_dir: newdata is a file"),
    ("data local_dir missing", data_cfg("local_dir = 'nowhere'\n"), "data", ["prepare", "d.py"], "local_dir"),
    ("data no en file", data_cfg("local_dir = 'data'\n"), "data", ["prepare", "d.py"], "local_dir: no file for language 'en'"),
    ("data languages empty", data_cfg("languages = {}\n"), "data", ["prepare", "d.py"], "languages"),
    ("data language int", data_cfg("languages = {'en': 5, 'zh': 'x'}\n"), "data", ["prepare", "d.py"], "languages.en"),
    ("data max_tokens lang", data_cfg("max_tokens = {'en': 3000}\n"), "data", ["prepare", "d.py"], "max_tokens"),
    ("data max_tokens 0", data_cfg("max_tokens = {'en': 0, 'zh': 1000}\n"), "data", ["prepare", "d.py"], "max_tokens.en"),
    ("data vocab small", data_cfg("vocab_size = 100\n"), "data", ["prepare", "d.py"], "vocab_size"),
    ("data tokenizer", data_cfg("tokenizer = 'gpt5'\n"), "data", ["prepare", "d.py"], "tokenizer"),
    ("data val 0", data_cfg("val_tokens = 0\n"), "data", ["prepare", "d.py"], "val_tokens"),
    ("data shard<0", data_cfg("shard_tokens = -1\n"), "data", ["prepare", "d.py"], "shard_tokens"),
    ("data workers<0", data_cfg("workers = -2\n"), "data", ["prepare", "d.py"], "workers"),
    ("data seed<0", data_cfg("seed = -1\n"), "data", ["prepare", "d.py"], "seed"),
    ("data shuffle 0", data_cfg("shuffle_block = 0\n"), "data", ["prepare", "d.py"], "shuffle_block"),
    ("data lang name", data_cfg("languages = {'e-n': 'x'}\nmax_tokens = {'e-n': 5}\n"), "data", ["prepare", "d.py"], "languages"),
    ("data colon", data_cfg("vocab_size: 512\n"), "data", ["prepare", "d.py"], "config: d.py line"),
    ("data changed config", data_cfg(f"data_dir = {D!r}\nvocab_size = 512\n"), "data", ["prepare", "d.py"], "max_tokens: data/tiny was prepared"),
    ("data hf malformed", data_cfg("local_dir = ''\nlanguages = {'en': 'hf:nope', 'zh': 'hf:x'}\n"), "data", ["prepare", "d.py"], "languages: 'hf:nope"),
    ("data no command", None, "data", ["data_cfg.py"], "command"),
    ("data bad command", None, "data", ["frobnicate", "data_cfg.py"], "command"),
    ("data verify none", None, "data", ["verify", "nowhere"], "data_dir"),
    ("data verify corrupt", flip_tokens, "data", ["verify", D], "data_dir"),
    ("data verify tokenizer", edit_json(D + "/tokenizer.json", lambda m: m.update(vocab_size=999)), "data", ["verify", D], "data_dir"),
    ("data stats unprepared", data_cfg(""), "data", ["stats", "d.py"], "data_dir"),
    ("corpus bad json", bad_corpus({"en.jsonl": b'{"text": "a"}\n{oops\n', "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    ("corpus empty", bad_corpus({"en.jsonl": b"", "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    ("corpus not utf8", bad_corpus({"en.txt": b"\xff\xfe bad\n", "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    ("corpus bad parquet", bad_corpus({"en.parquet": b"PAR1 not really", "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    # ---- damaged data dir under train.py
    ("shard corrupted", flip_tokens, "train", ["run.py", "--run_name=u"], "data_dir"),
    ("shard truncated", lambda h: open(h / D / "en/train-00000.bin", "r+b").truncate(1000), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("shard deleted", lambda h: os.remove(h / D / "en/train-00000.bin"), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("val swapped", lambda h: shutil.copy(h / D / "zh/val.bin", h / D / "en/val.bin"), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("manifest deleted", lambda h: os.remove(h / D / "manifest.json"), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("manifest list", raw_file(D + "/manifest.json", "[]"), "train", ["run.py", "--run_name=u"], "data/tiny/manifest.json"),
    ("manifest no shards", edit_json(D + "/manifest.json", lambda m: m["languages"]["en"].pop("train")), "train", ["run.py", "--run_name=u"], "data/tiny/manifest.json"),
    ("manifest tokens", edit_json(D + "/manifest.json", lambda m: m["languages"]["en"]["train"]["shards"][0].update(tokens=5)), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("tokenizer swapped", edit_json(D + "/tokenizer.json", lambda m: m.update(eot=3)), "train", ["run.py", "--run_name=u"], "data_dir"),
    ("tokenizer ranks edited", lambda h: open(h / D / "tokenizer.tiktoken", "a").write("QUFB 9999\n"), "train", ["run.py", "--run_name=u"], "data_dir"),
    # ---- run dirs and checkpoints
    ("resume foreign ckpt", foreign_ckpt, "train", ["run.py", "--resume"], "lr_max"),
    ("resume no record, changed", no_record_changed, "train", ["run.py", "--resume", "--seed=9"], "seed"),
    ("resume code changed", code_changed, "train", ["run.py", "--resume"], "code: model.py changed"),
    ("resume crafted ckpt", both(unfinished, crafted_ckpt), "train", ["run.py", "--resume"], "checkpoint"),
    ("eval crafted ckpt", crafted_ckpt, "eval", [R], "checkpoint"),
    ("eval ckpt truncated", lambda h: open(h / R / "ckpt.pt", "r+b").truncate(500), "eval", [R], "checkpoint"),
    ("eval ckpt empty", raw_file(R + "/ckpt.pt", b""), "eval", [R], "checkpoint"),
    ("eval ckpt garbage", raw_file(R + "/ckpt.pt", os.urandom(5000)), "eval", [R], "checkpoint"),
    ("eval ckpt dir", lambda h: (os.remove(h / R / "ckpt.pt"), os.makedirs(h / R / "ckpt.pt")), "eval", [R], "checkpoint"),
    ("eval no ckpt", lambda h: os.remove(h / R / "ckpt.pt"), "eval", [R], "checkpoint"),
    ("eval no run", None, "eval", ["runs/nope"], "run"),
    ("eval record torn", raw_file(R + "/config.json", '{"config": {'), "eval", [R], "runs/t/config.json"),
    ("eval data corrupted", lambda h: flip_tokens(h, "data/tiny/en/val.bin"), "eval", [R], "data_dir"),
    ("eval tokenizer swapped", edit_json(D + "/tokenizer.json", lambda m: m.update(eot=3)), "eval", [R], "data_dir"),
    ("eval option typo", None, "eval", [R, "--eval_token=5"], "a run's held-out splits: unknown option --eval_token"),
    ("bpb no text", None, "eval", ["bpb", R, "--lang=en"], "bpb"),
    ("bpb text missing", None, "eval", ["bpb", R, "--text=nope.jsonl", "--lang=en"], ""),
    ("bpb max_tokens 0", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=en", "--max_tokens=0"], "--max_tokens"),
    ("bpb batch 0", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=en", "--batch_size=0"], "--batch_size"),
    ("bpb option typo", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=en", "--max_token=5"], "bpb: unknown option --max_token"),
    ("sample tokens text", None, "eval", ["sample", R, "--prompt=a", "--max_new_tokens=abc"], "--max_new_tokens"),
    ("sample temperature", None, "eval", ["sample", R, "--prompt=a", "--temperature=-1"], "--temperature"),
    ("sample top_k 0", None, "eval", ["sample", R, "--prompt=a", "--top_k=0"], "--top_k"),
    ("tasks none", None, "eval", ["tasks", R], "tasks"),
    ("tasks unknown", None, "eval", ["tasks", R, "--tasks=nope"], "tasks"),
    ("tasks not json", raw_file("t.jsonl", "not json\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("tasks label", raw_file("t.jsonl", TASK.replace('"label": 0', '"label": 5') + "\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("tasks empty", raw_file("t.jsonl", "\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("export nonempty", raw_file("out/keep.txt", "mine"), "eval", ["export", R, "out"], "export"),
    ("export over file", raw_file("out", "mine"), "eval", ["export", R, "out"], "export"),
    ("downstream no folder", None, "eval", ["downstream", "nowhere", "--tasks=t.jsonl"], "downstream"),
    ("downstream text", None, "eval", ["downstream", "runs", "--text=nolang"], "--text"),
    ("report no folder", None, "eval", ["report", "nowhere"], ""),
    ("plot no run", None, "eval", ["plot", "nowhere"], ""),
    ("eval four args", None, "eval", ["a", "b", "c", "d"], "command"),
    # ---- sweep (run from the project root: its configs are config/SCALE)
    ("sweep jobs 0", None, "sweep", ["smoke", "all", "--jobs=0", "--dry_run"], "--jobs"),
    ("sweep jobs text", None, "sweep", ["smoke", "all", "--jobs=abc", "--dry_run"], "--jobs"),
    ("sweep seeds", None, "sweep", ["smoke", "all", "--seeds=abc", "--dry_run"], "--seeds"),
    ("sweep experiment", None, "sweep", ["smoke", "nope", "--dry_run"], "experiment"),
    ("sweep scale", None, "sweep", ["huge", "all", "--dry_run"], "SCALE"),
    ("sweep local_dir", None, "sweep", ["smoke", "all", "--local_dir=/nowhere", "--dry_run"], "--local_dir"),
]


@pytest.mark.parametrize("setup,script,argv,msg", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(request, home, capsys, monkeypatch, setup, script, argv, msg):
    if setup:
        setup(home)
    if script == "bpb" or "x.jsonl" in argv[-1] or any("x.jsonl" in a for a in argv):
        (home / "x.jsonl").write_text('{"text": "hello"}\n')
    before = snapshot(home)
    if script == "sweep":
        monkeypatch.chdir(ROOT)
    code, err = None, ""
    try:
        code = MAINS[script](list(argv))
    except SystemExit as e:
        code = e.code
    except Exception as e:  # noqa: BLE001 - the battery records it as a traceback
        err = f"Traceback: {type(e).__name__}: {e}"
    err = capsys.readouterr().err + err
    after = snapshot(home)
    lost = sorted(p for p, h in before.items() if after.get(p) != h)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    outcome = ("traceback" if "Traceback" in err else "silent" if code in (0, None) else
               "one-liner" if code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {msg.split(':')[0]}") else
               "wrong cause" if code == 2 and len(lines) == 1 else f"exit {code}")
    OUTCOMES[request.node.callspec.id] = (outcome, code, lost)
    assert not os.path.exists(home / "pwned") and not os.path.exists(os.path.join(ROOT, "pwned")), "a checkpoint ran code"
    assert outcome == "one-liner", f"{outcome}: {err}"
    assert not lost, lost


def test_make_jobs_zero_does_not_hang():
    r = subprocess.run(["make", "-C", ROOT, "mix", "SCALE=smoke", "JOBS=0", "DRY=1", f"PY={sys.executable}"],
                       capture_output=True, text=True, timeout=120)
    mine = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    OUTCOMES["make JOBS=0"] = ("one-liner" if r.returncode == 2 and len(mine) == 1 else f"exit {r.returncode}", r.returncode, [])
    assert r.returncode == 2 and mine and mine[0].startswith("error: --jobs"), r.stderr


def test_battery_table():
    """The tally of every case above (run in the same session); the goals are in the asserts."""
    if len(OUTCOMES) < 100:
        pytest.skip("run the whole file: the table needs every case")
    tally = {}
    for outcome, _, _ in OUTCOMES.values():
        tally[outcome] = tally.get(outcome, 0) + 1
    lost = sum(len(v[2]) for v in OUTCOMES.values())
    not2 = {k: v[1] for k, v in OUTCOMES.items() if v[1] != 2}
    print(f"\nbattery: {len(OUTCOMES)} inputs; " + ", ".join(f"{k}: {n}" for k, n in sorted(tally.items()))
          + f"; files lost: {lost}; exit code not 2: {not2 or 'none'}")
    for k, v in OUTCOMES.items():
        if v[0] != "one-liner":
            print(f"  {k}: {v[0]}")
    assert tally.get("traceback", 0) == 0 and tally.get("silent", 0) == 0 and lost == 0


def test_check_checkpoint_refuses_a_foreign_one(home):
    """What train.py's restore calls: another run's checkpoint, or one past the plan, is refused."""
    import torch

    from scalex import rundir
    from scalex.configurator import ConfigError
    ck = torch.load(home / R / "ckpt.pt", weights_only=True)
    cfg, flags = dict(ck["config"]), {"allow": False, "resume": True}
    rundir.check_checkpoint(ck, cfg, {"total_steps": ck["step"]}, flags, train.DEFAULTS)
    with pytest.raises(ConfigError, match="^seed: "):
        rundir.check_checkpoint(dict(ck, config=dict(cfg, seed=7)), cfg, {"total_steps": ck["step"]}, flags, train.DEFAULTS)
    with pytest.raises(ConfigError, match="outside this run's plan"):
        rundir.check_checkpoint(ck, cfg, {"total_steps": ck["step"] - 1}, flags, train.DEFAULTS)
