"""The documentation's commands run as written, and the text speaks of the project only.

A fenced block in README.md or docs/*.md that follows a `<!-- runnable -->` line (or
`<!-- runnable: needs PACKAGE -->`: skipped, saying so, when PACKAGE is not importable) is run
with bash, block after block in file order, in a fresh copy of the project whose smoke scale
is made smaller still (budgets of a few thousand tokens), with `python` this interpreter and
SCALEX_DATA a generated corpus. So a documented command cannot drift from the code."""
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, make_corpus

MARK = re.compile(r"^<!-- runnable(?::\s*needs\s+([\w., -]+))? -->\n```[a-z]*\n(.*?)^```", re.M | re.S)
DOCS = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
# The smoke scale, smaller: a documented block trains in seconds here.
SMALLER = {"config/smoke/common.py": 'budget = {"en": 16_000, "zh": 4_000}\neval_interval = 0\neval_tokens = 2_000\n',
           "config/smoke/data.py": 'max_tokens = {"en": 20_000, "zh": 6_000}\nval_tokens = 2_000\n'
                                   'test_tokens = {"en": 2_000, "zh": 2_000}\n'}


def blocks(doc):
    """[(packages it needs, bash text)] of the runnable blocks of one document."""
    with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
        return [([p.strip() for p in (needs or "").split(",") if p.strip()], body) for needs, body in MARK.findall(f.read())]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project (no runs, data or venv), the smaller smoke scale, a corpus."""
    dst = tmp_path_factory.mktemp("docs") / "scalex"
    skip = shutil.ignore_patterns(".git", ".venv", "runs", "data", "out", "pack", "results", "__pycache__", ".pytest_cache")
    shutil.copytree(ROOT, dst, ignore=skip)
    for path, text in SMALLER.items():
        with open(dst / path, "a") as f:
            f.write("\n# tests/test_docs.py: smaller still\n" + text)
    corpus = make_corpus(str(tmp_path_factory.mktemp("corpus")), n_en=600, n_zh=400)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, SCALEX_DATA=corpus, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONPATH="")
    return str(dst), env


def test_the_docs_have_runnable_blocks():
    """The marker is in use where the walkthroughs are (a renamed marker would test nothing)."""
    found = {doc: len(blocks(doc)) for doc in DOCS}
    assert found["README.md"] >= 1 and found["docs/evaluation.md"] >= 3 and found["docs/runs.md"] >= 1, found
    for doc in DOCS:  # every marker is followed by a fenced block
        with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
            assert f.read().count("<!-- runnable") == found[doc], doc


@pytest.mark.parametrize("doc", [d for d in DOCS if blocks(d)])
def test_runnable_blocks_run(doc, project):
    cwd, env = project
    for i, (needs, body) in enumerate(blocks(doc), 1):
        missing = [p for p in needs if importlib.util.find_spec(p) is None]
        if missing:
            print(f"{doc} block {i}: skipped, needs {', '.join(missing)}")
            continue
        p = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"{doc} block {i} exit {p.returncode}:\n{body}\n--- output:\n{(p.stdout + p.stderr)[-3000:]}"


# The build of this project is no part of it: no such words or paths in what git keeps.
FORBIDDEN = ["shared/" + "corpora", "GPU " + "machine", "working " + "tree", "/" + "work/", "/" + "home/", "/" + "tmp/"]


def test_text_speaks_of_the_project_only():
    if not os.path.isdir(os.path.join(ROOT, ".git")) and not os.path.isfile(os.path.join(ROOT, ".git")):
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    hits = []
    for name in files:
        if name.startswith(".ci/") or name.endswith((".png", ".gz", ".pt")):
            continue
        try:
            text = open(os.path.join(ROOT, name), encoding="utf-8").read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        hits += [f"{name}: {w}" for w in FORBIDDEN if w.lower() in text.lower()]
    assert not hits, hits
    assert os.path.isfile(os.path.join(ROOT, "LICENSE"))
