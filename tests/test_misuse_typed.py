"""A battery of bad input against the typed schema and the file rules: every setting of every
command (train, data, sweep, eval) given a wrong type or range, files of the user's that must
survive, corpus and task files in odd shapes, signals and full disks. None of these cases is
one of test_misuse.py or test_misuse_battery.py. Each runs in a private copy of a project
folder and is classified as test_misuse_battery does: a one-line error with exit code 2 that
names the key or file (the wording after it is free), or a traceback, a wrong exit code, a
silent success; every file the folder held must be byte-identical after.

LISTED holds the failures a review listed; OWN
holds the cases of this battery (at least 60)."""
import errno
import gzip
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, write_config
from test_misuse_battery import MAINS, data_cfg, edit_json, home, project, raw_file, run_cfg, snapshot  # noqa: F401

OUTCOMES = {}
R, D = "runs/t", "data/tiny"
TASK = {"context": "a", "choices": ["b", "c"], "label": 0, "lang": "en"}


def corpus(files, extra=""):
    """A corpus folder bc/ of `files` and d.py reading it."""
    def setup(h):
        os.makedirs(h / "bc", exist_ok=True)
        for name, blob in files.items():
            (h / "bc" / name).write_bytes(blob() if callable(blob) else blob)
        write_config(h / "d.py", open(h / "data_cfg.py").read() + "local_dir = 'bc'\n" + extra)
    return setup


def parquet(**cols):
    def blob():
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq
        buf = io.BytesIO()
        pq.write_table(pa.table(cols), buf)
        return buf.getvalue()
    return blob


def tiny_scale(sweep_py):
    """config/tiny/ in the project: the finished run's config as common.py, data on data/tiny."""
    def setup(h):
        os.makedirs(h / "config" / "tiny")
        write_config(h / "config" / "tiny" / "common.py", open(h / "run.py").read() + "stages = []\nrun_name = ''\n")
        write_config(h / "config" / "tiny" / "data.py", open(h / "data_cfg.py").read())
        write_config(h / "config" / "tiny" / "sweep.py", sweep_py)
    return setup


def summary_edit(fn):
    return edit_json(R + "/summary.json", fn)


GZ_CUT = gzip.compress(b'{"text": "a b c"}\n' * 2000)[:300]
LISTED = [
    ("sweep int for list", None, "sweep", ["smoke", "all", "--sizes=5", "--dry_run"], "sizes"),
    ("sweep list for int", None, "sweep", ["smoke", "all", "--nproc=[1]", "--dry_run"], "nproc"),
    ("sweep nproc 0", None, "sweep", ["smoke", "all", "--nproc=0", "--dry_run"], "nproc"),
    ("sweep train key", None, "sweep", ["smoke", "lrl-epochs", "--lrl_epochs=8", "--dry_run"], "lrl_epochs"),
    ("sweep selects no run", None, "sweep", ["smoke", "mix", "--only=lrl_only"], "--only"),
    ("sweep dry above data", tiny_scale("sizes = [10 ** 9]\n"), "sweep-home", ["tiny", "mix", "--dry_run"], "budget.en"),
    ("sweep tokens_per_s<0", None, "sweep", ["smoke", "all", "--tokens_per_s=-1", "--dry_run"], "tokens_per_s"),
    ("train grad_accum huge", None, "train", ["run.py", "--grad_accum=1000000", "--dry_run"], "grad_accum"),
    ("report out foreign", raw_file("mine.md", "my notes\n"), "eval", ["report", "runs", "--out=mine.md"], "--out"),
    ("report out no folder", None, "eval", ["report", "runs", "--out=nowhere/r.md"], "--out"),
    ("pack from missing", None, "sweep", ["pack", "packdir", "--from=/nowhere"], "--from"),
    ("summary edited", summary_edit(lambda s: s["val_bpb"].update(zh=0.5)), "eval", ["report", "runs"], "runs/t/summary.json"),
    ("summary bpb string", summary_edit(lambda s: s["val_bpb"].update(zh="2.1")), "eval", ["report", "runs"], "runs/t/summary.json"),
    ("parquet text ints", corpus({"en.parquet": parquet(text=[1, 2, 3]), "zh.jsonl": b'{"text": "b"}\n'}),
     "data", ["prepare", "d.py"], "languages"),
    ("task line array", raw_file("t.jsonl", "[1, 2]\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("run_name NUL", None, "train", ["run.py", "--run_name=a\x00b"], "run_name"),
    ("data empty local_dir", None, "data", ["prepare", "data_cfg.py", "--local_dir="], "local_dir"),
    ("sweep empty local_dir", None, "sweep", ["smoke", "all", "--local_dir=", "--dry_run"], "--local_dir"),
]

OWN = [
    # ---- train.py: each key's type and range, from the command line
    ("model head size odd", None, "train", ["run.py", "--model_args={'d_model': 132, 'n_head': 4}"], "model_args.d_model"),
    ("model rope_theta<0", None, "train", ["run.py", "--model_args.rope_theta=-1.0"], "model_args.rope_theta"),
    ("model tie int", None, "train", ["run.py", "--model_args={'tie_embeddings': 1}"], "model_args.tie_embeddings"),
    ("model vocab via args", None, "train", ["run.py", "--model_args={'vocab_size': 5}"], "model_args.vocab_size"),
    ("model kv > heads", None, "train", ["run.py", "--model_args={'n_head': 2, 'n_kv_head': 4, 'd_model': 64}"], "model_args.n_kv_head"),
    ("model d_ff<0", None, "train", ["run.py", "--model_args={'d_ff': -64}"], "model_args.d_ff"),
    ("stage2 share 1", None, "train", ["run.py", "--stage2_lrl_share=1"], "stage2_lrl_share"),
    ("stage2 share 0", None, "train", ["run.py", "--stage2_lrl_share=0"], "stage2_lrl_share"),
    ("stage2 fraction 1.5", None, "train", ["run.py", "--stage2_hrl_fraction=1.5"], "stage2_hrl_fraction"),
    ("stage2 tokens<0", None, "train", ["run.py", "--stage2_tokens=-5"], "stage2_tokens"),
    ("stage2 tokens float", None, "train", ["run.py", "--stage2_tokens=1e5"], "stage2_tokens"),
    ("lrl_epochs 0", None, "train", ["run.py", "--lrl_epochs=0"], "lrl_epochs"),
    ("lrl_epochs text", None, "train", ["run.py", "--lrl_epochs=inf"], "lrl_epochs"),
    ("betas item text", None, "train", ["run.py", "--betas=[0.9, 'a']"], "betas"),
    ("betas dict", None, "train", ["run.py", "--betas={'a': 1}"], "betas"),
    ("budget empty", None, "train", ["run.py", "--budget={}"], "budget"),
    ("budget float", None, "train", ["run.py", "--budget={'en': 2.5e5, 'zh': 6000}"], "budget.en"),
    ("hrl is lrl", None, "train", ["run.py", "--lrl=en"], "lrl"),
    ("stages and recipe", None, "train", ["run.py", "--method=scalex", "--stages=[{'lr': 'cosine', 'tokens': {'en': 100}}]"], "stages"),
    ("stage total no mix", None, "train", ["run.py", "--stages=[{'lr': 'cosine', 'total': 100}]"], "stages[0]"),
    ("stage mix no total", None, "train", ["run.py", "--stages=[{'lr': 'cosine', 'mix': {'en': 1.0}}]"], "stages[0]"),
    ("stage lr_from<0", None, "train", ["run.py", "--stages=[{'lr': 'cosine', 'tokens': {'en': 100}, 'lr_from': -1}]"],
     "stages[0].lr_from"),
    ("stage not dict", None, "train", ["run.py", "--stages=[5]"], "stages[0]"),
    ("stage name empty", None, "train", ["run.py", "--stages=[{'lr': 'cosine', 'tokens': {'en': 100}, 'name': ''}]"], "stages[0].name"),
    ("run_name double slash", None, "train", ["run.py", "--run_name=a//b"], "run_name"),
    ("run_name trailing slash", None, "train", ["run.py", "--run_name=a/"], "run_name"),
    ("run_name newline", None, "train", ["run.py", "--run_name=a\nb"], "run_name"),
    ("out_dir empty", None, "train", ["run.py", "--out_dir="], "out_dir"),
    ("device cuda:x", None, "train", ["run.py", "--device=cuda:x"], "device"),
    ("device number", None, "train", ["run.py", "--device=3"], "device"),
    ("dtype bool", None, "train", ["run.py", "--dtype=True"], "dtype"),
    ("seed 2**63", None, "train", ["run.py", "--seed=9223372036854775808"], "seed"),
    ("warmup float", None, "train", ["run.py", "--warmup_steps=1.0"], "warmup_steps"),
    ("eval_tokens float", None, "train", ["run.py", "--eval_tokens=1e5"], "eval_tokens"),
    ("wandb_project empty", None, "train", ["run.py", "--wandb_project="], "wandb_project"),
    ("experiment int", None, "train", ["run.py", "--experiment=3"], "experiment"),
    ("scale empty", None, "train", ["run.py", "--scale="], "scale"),
    ("tensorboard text", None, "train", ["run.py", "--tensorboard=yes"], "tensorboard"),
    ("overwrite value", None, "train", ["run.py", "--dry_run", "--overwrite=1"], "--overwrite"),
    ("allow int", None, "train", ["run.py", "--resume", "--allow=3"], "--allow"),
    ("batch one huge step", None, "train", ["run.py", "--batch_size=100000", "--dry_run"], "grad_accum"),
    # ---- train.py: config files
    ("cfg n_layer float", run_cfg('model_args = {"n_layer": 2.5}\n'), "train", ["c.py"], "model_args.n_layer"),
    ("cfg second stage text", run_cfg('stages = [{"lr": "cosine", "tokens": {"en": 100}}, "oops"]\n'), "train", ["c.py"], "stages[1]"),
    ("cfg seed bool", run_cfg("seed = True\n"), "train", ["c.py"], "seed"),
    ("cfg lr None", run_cfg("lr_max = None\n"), "train", ["c.py"], "lr_max"),
    ("cfg BOM", raw_file("c.py", "\ufeffbatch_size = 4\n\ufeffseed = 1\n".encode()), "train", ["c.py"], "config"),
    ("cfg budget nested str", run_cfg('budget = {"en": {"x": 1}, "zh": 6000}\n'), "train", ["c.py"], "budget.en"),
    # ---- data.py
    ("data ood not str", None, "data", ["prepare", "data_cfg.py", "--ood={'zh': 3}"], "ood.zh"),
    ("data ood lang", None, "data", ["prepare", "data_cfg.py", "--ood={'fr': 'x.tsv'}"], "ood.fr"),
    ("data ood_tokens 0", None, "data", ["prepare", "data_cfg.py", "--ood_tokens=0"], "ood_tokens"),
    ("data sample bytes<0", None, "data", ["prepare", "data_cfg.py", "--tokenizer_sample_bytes=-1"], "tokenizer_sample_bytes"),
    ("data hf_revision empty", None, "data", ["prepare", "data_cfg.py", "--hf_revision="], "hf_revision"),
    ("data cache empty", None, "data", ["prepare", "data_cfg.py", "--transform_cache="], "transform_cache"),
    ("data source empty", data_cfg("local_dir = ''\nlanguages = {'en': '', 'zh': 'x'}\n"), "data", ["prepare", "d.py"], "languages.en"),
    ("data max_tokens float", None, "data", ["prepare", "data_cfg.py", "--max_tokens.en=1.5"], "max_tokens.en"),
    ("data seed text", None, "data", ["prepare", "data_cfg.py", "--seed=2**64"], "seed"),
    ("data verify file", None, "data", ["verify", "run.py"], "data_dir"),
    ("data stats extra", None, "data", ["stats", "data_cfg.py", "more"], "command"),
    # ---- corpus files
    ("corpus gz cut", corpus({"en.jsonl.gz": GZ_CUT, "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    ("corpus txt blank", corpus({"en.txt": b"\n\n\n\n", "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"], "languages"),
    ("corpus parquet no text", corpus({"en.parquet": parquet(body=["a", "b"]), "zh.jsonl": b'{"text": "b"}\n'}),
     "data", ["prepare", "d.py"], "languages"),
    ("corpus all null", corpus({"en.jsonl": b'{"text": null}\n' * 5, "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"],
     "languages"),
    ("corpus only a backup", corpus({"en.bak.jsonl": b'{"text": "a"}\n', "zh.jsonl": b'{"text": "b"}\n'}), "data", ["prepare", "d.py"],
     "local_dir"),
    # ---- sweep.py
    ("sweep one empty", None, "sweep", ["smoke", "all", "--one=[]", "--dry_run"], "one"),
    ("sweep size 0", None, "sweep", ["smoke", "all", "--sizes=[0]", "--dry_run"], "sizes[0]"),
    ("sweep seed negative", None, "sweep", ["smoke", "all", "--seeds=-1", "--dry_run"], "--seeds"),
    ("sweep seeds empty", None, "sweep", ["smoke", "all", "--seeds=", "--dry_run"], "--seeds"),
    ("sweep epochs 0", None, "sweep", ["smoke", "all", "--epochs=[0]", "--dry_run"], "epochs[0]"),
    ("sweep note int", None, "sweep", ["smoke", "all", "--tokens_per_s_note=3", "--dry_run"], "tokens_per_s_note"),
    ("sweep dry_run value", None, "sweep", ["smoke", "all", "--dry_run=3"], "--dry_run"),
    ("sweep only empty", None, "sweep", ["smoke", "all", "--only=", "--dry_run"], "--only"),
    ("sweep only typo", None, "sweep", ["smoke", "all", "--only=scalex,nope", "--dry_run"], "--only"),
    ("sweep jobs float", None, "sweep", ["smoke", "all", "--jobs=1.5", "--dry_run"], "--jobs"),
    ("sweep py empty", None, "sweep", ["smoke", "all", "--py=", "--dry_run"], "--py"),
    ("sweep run key", None, "sweep", ["smoke", "mix", "--lr_max=1", "--dry_run"], "--lr_max"),
    ("sweep no experiment", None, "sweep", ["smoke"], "experiment"),
    ("sweep pack foreign dest", lambda h: (raw_file("packdir/notes.txt", "mine")(h), raw_file("bc/en.jsonl.gz", GZ_CUT)(h)),
     "sweep-home", ["pack", "packdir", "--from=bc"], "pack"),
    ("sweep pack no from", None, "sweep-home", ["pack", "packdir"], "--from"),
    # ---- eval.py
    ("sample temperature text", None, "eval", ["sample", R, "--prompt=a", "--temperature=inf"], "--temperature"),
    ("sample seed<0", None, "eval", ["sample", R, "--prompt=a", "--seed=-1"], "--seed"),
    ("sample top_k float", None, "eval", ["sample", R, "--prompt=a", "--top_k=2.5"], "--top_k"),
    ("sample tokens<0", None, "eval", ["sample", R, "--prompt=a", "--max_new_tokens=-1"], "--max_new_tokens"),
    ("bpb name empty", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=en", "--name="], "--name"),
    ("bpb lang int", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=3"], "--lang"),
    ("bpb batch bool", None, "eval", ["bpb", R, "--text=x.jsonl", "--lang=en", "--batch_size=True"], "--batch_size"),
    ("bpb text folder", lambda h: os.makedirs(h / "tdir.jsonl"), "eval", ["bpb", R, "--text=tdir.jsonl", "--lang=en"], "--text"),
    ("report readme int", None, "eval", ["report", "runs", "--readme=3"], "--readme"),
    ("report readme no block", raw_file("notes.md", b"# my notes\n"), "eval", ["report", "runs", "--readme=notes.md"],
     "--readme"),
    ("report out empty", None, "eval", ["report", "runs", "--out="], "--out"),
    ("report out a folder", None, "eval", ["report", "runs", "--out=runs"], "--out"),
    ("report out beside pngs", raw_file("docs/report.png", b"my figure"), "eval", ["report", "runs", "--out=docs/r.md"], "--out"),
    ("export lang int", None, "eval", ["export", R, "out", "--lang=3"], "--lang"),
    ("plot option", None, "eval", ["plot", R, "--x=1"], "plot"),
    ("downstream batch 0", raw_file("t.jsonl", json.dumps(TASK) + "\n"), "eval", ["downstream", "runs", "--tasks=t.jsonl",
                                                                                 "--batch_size=0"], "--batch_size"),
    ("task label bool", raw_file("t.jsonl", json.dumps(dict(TASK, label=True)) + "\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("task one choice", raw_file("t.jsonl", json.dumps(dict(TASK, choices=["b"])) + "\n"), "eval", ["tasks", R, "--tasks=t.jsonl"],
     "tasks"),
    ("task line null", raw_file("t.jsonl", "null\n"), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    ("task not utf8", raw_file("t.jsonl", b'{"context": "\xff"}\n'), "eval", ["tasks", R, "--tasks=t.jsonl"], "tasks"),
    # ---- run dirs the report reads
    ("summary bpb null", summary_edit(lambda s: s["val_bpb"].update(zh=None)), "eval", ["report", "runs"], "runs/t/summary.json"),
    ("summary a list", raw_file(R + "/summary.json", "[1, 2]"), "eval", ["report", "runs"], "runs/t/summary.json"),
    ("summary bpb list", summary_edit(lambda s: s.update(val_bpb=[1.0])), "eval", ["report", "runs"], "runs/t/summary.json"),
]


def _classify(code, err, key):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return ("traceback" if "Traceback" in err else "silent" if code in (0, None) else
            "one-liner" if code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {key}") else
            "wrong cause" if code == 2 and len(lines) == 1 else f"exit {code}")


def _run_case(home, capsys, monkeypatch, setup, script, argv):
    if setup:
        setup(home)
    (home / "x.jsonl").write_text('{"text": "hello"}\n')
    before = snapshot(home)
    if script == "sweep":
        monkeypatch.chdir(ROOT)
    code, err = None, ""
    try:
        code = MAINS[script.split("-")[0]](list(argv))
    except SystemExit as e:
        code = e.code
    except Exception as e:  # noqa: BLE001 - recorded as a traceback
        err = f"Traceback: {type(e).__name__}: {e}"
    err = capsys.readouterr().err + err
    after = snapshot(home)
    return code, err, sorted(p for p, h in before.items() if after.get(p) != h)


@pytest.mark.parametrize("setup,script,argv,key", [c[1:] for c in LISTED + OWN], ids=[c[0] for c in LISTED + OWN])
def test_bad_input(request, home, capsys, monkeypatch, setup, script, argv, key):
    code, err, lost = _run_case(home, capsys, monkeypatch, setup, script, argv)
    outcome = _classify(code, err, key)
    OUTCOMES[request.node.callspec.id] = (outcome, code, lost, (err.strip().splitlines() or [""])[0])
    assert outcome == "one-liner", f"{outcome}: {err}"
    assert not lost, lost
    assert not os.path.exists(os.path.join(ROOT, "data", "smoke", "progress.json")) or "sweep" not in script


# ----------------------------------------------------------------------------- files the user keeps
def test_report_replaces_its_own_report_only(home, capsys):
    code, _, _ = _run_case(home, capsys, None, None, "eval", ["report", "runs", "--out=r.md"])
    assert code in (0, None) and (home / "r.md").read_text().startswith("# Report: ")
    code, err, lost = _run_case(home, capsys, None, None, "eval", ["report", "runs", "--out=r.md"])  # ours: replaced
    assert code in (0, None) and not lost, err


def test_stale_temp_file_of_a_killed_report_goes(home, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale, live = home / "runs" / f"report.md.tmp{dead.pid}", home / "runs" / f"report.md.tmp{os.getpid()}0"
    stale.write_text("half a report")
    code, err, _ = _run_case(home, capsys, None, None, "eval", ["report", "runs"])
    assert code in (0, None), err
    assert not stale.exists() and (home / "runs" / "report.md").read_text().startswith("# Report: ")


def test_sigterm_while_writing_removes_the_temp_file(tmp_path):
    """A write killed by SIGTERM (a scheduler's kill, a timeout) leaves neither a torn file nor its temp."""
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    code = f"""
import sys, time
sys.path.insert(0, {ROOT!r})
from scalex.files import atomic_write
def slow(f):
    f.write(b"x" * 1000)
    f.flush()
    print("writing", flush=True)
    time.sleep(30)
atomic_write({str(target)!r}, slow)
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == -signal.SIGTERM
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]


def test_ctrl_c_while_writing_removes_the_temp_file(tmp_path):
    from scalex.files import atomic_write
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(tmp_path / "a.json"), lambda f: (f.write("{"), (_ for _ in ()).throw(KeyboardInterrupt)), mode="w")
    assert os.listdir(tmp_path) == ["a.json"] and (tmp_path / "a.json").read_text() == "{}"


def test_stray_backup_beside_the_corpus_is_not_read(home, capsys, monkeypatch):
    """en.bak.jsonl beside en.jsonl.gz: the exact name is read, and the output says which file."""
    en = b"".join(json.dumps({"text": f"english text {i} " * 20}).encode() + b"\n" for i in range(300))
    setup = corpus({"en.jsonl.gz": gzip.compress(en), "en.bak.jsonl": b'{"text": "NOT ENGLISH"}\n' * 300,
                    "zh.jsonl": b"".join(json.dumps({"text": f"zh {i} " * 10}).encode() + b"\n" for i in range(300))})
    setup(home)
    code = MAINS["data"](["prepare", "d.py", "--max_tokens={'en': 2000, 'zh': 1000}"])
    out = capsys.readouterr().out
    assert code in (0, None)
    assert "en: reading bc/en.jsonl.gz" in out
    m = json.loads((home / "newdata" / "manifest.json").read_text())
    assert m["languages"]["en"]["files"] == ["bc/en.jsonl.gz"]


@pytest.mark.parametrize("spelling", ["trailing slash", "absolute", "copy"])
def test_same_corpus_under_another_spelling_is_the_same_data(home, capsys, spelling):
    setup = corpus({"en.jsonl": b"".join(json.dumps({"text": f"english text {i} " * 20}).encode() + b"\n" for i in range(300)),
                    "zh.jsonl": b"".join(json.dumps({"text": f"zh {i} " * 10}).encode() + b"\n" for i in range(300))})
    setup(home)
    args = ["prepare", "d.py", "--max_tokens={'en': 2000, 'zh': 1000}"]
    assert MAINS["data"](args) in (0, None)
    if spelling == "copy":
        import shutil
        shutil.copytree(home / "bc", home / "bc2")
    other = {"trailing slash": "bc/", "absolute": str(home / "bc"), "copy": "bc2"}[spelling]
    capsys.readouterr()
    code = MAINS["data"](args + [f"--local_dir={other}"])
    out, err = capsys.readouterr()
    assert code in (0, None) and "up to date" in out, err
    (home / "bc2" if spelling == "copy" else home / "bc").joinpath("en.jsonl").write_text('{"text": "changed"}\n')
    code = None
    try:
        MAINS["data"](args + [f"--local_dir={other}"])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: languages.en: the source's files changed"), err


# ----------------------------------------------------------------------------- a full disk, a read-only folder
def _no_space(path_part, err=errno.ENOSPC):
    """os.replace (every atomic write ends in it) fails for paths containing path_part."""
    real = os.replace

    def replace(a, b, *args, **kw):
        if path_part in str(b):
            raise OSError(err, os.strerror(err), str(b))
        return real(a, b, *args, **kw)
    return replace


@pytest.mark.parametrize("name,argv,part,err", [
    ("report, disk full", ["report", "runs"], "report.md", errno.ENOSPC),
    ("prepare, disk full", ["prepare", "data_cfg.py"], "newdata", errno.ENOSPC),
    ("train, read-only run dir", ["run.py", "--run_name=u"], "runs/u", errno.EROFS),
    ("export, disk full", ["export", R, "out"], "out", errno.ENOSPC),
])
def test_full_disk_or_read_only_is_one_line_naming_the_path(home, capsys, monkeypatch, name, argv, part, err):
    script = "data" if argv[0] == "prepare" else "train" if argv[0].endswith(".py") else "eval"
    monkeypatch.setattr(os, "replace", _no_space(part, err))
    code, out, lost = _run_case(home, capsys, monkeypatch, None, script, argv)
    OUTCOMES[name] = (_classify(code, out, "runs/" if script == "train" else ""), code, lost, (out.strip().splitlines() or [""])[0])
    assert code == 2 and len(out.strip().splitlines()) == 1 and part in out.splitlines()[0], out
    assert os.strerror(err) in out and not lost
    assert not [p for p in snapshot(home) if ".tmp" in p], "a temp file was left behind"


def test_own_battery_table():
    """The tally of the cases above (run in the same session): 0 tracebacks, 0 silent, 0 lost."""
    if len(OUTCOMES) < len(LISTED) + len(OWN):
        pytest.skip("run the whole file: the table needs every case")
    assert len(OWN) >= 60
    tally = {}
    for outcome, *_ in OUTCOMES.values():
        tally[outcome] = tally.get(outcome, 0) + 1
    lost = sum(len(v[2]) for v in OUTCOMES.values())
    print(f"\nbattery: {len(OUTCOMES)} inputs ({len(LISTED)} listed by the review, {len(OWN)} new); "
          + ", ".join(f"{k}: {n}" for k, n in sorted(tally.items())) + f"; files lost: {lost}")
    for k, (outcome, code, _, first) in OUTCOMES.items():
        print(f"  {k}: exit {code}: {first}")
    assert tally.get("traceback", 0) == 0 and tally.get("silent", 0) == 0 and lost == 0
