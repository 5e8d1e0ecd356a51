"""The layout stays readable: no Python file over 600 lines, no function over 100 (read with
ast, so a long string or comment block counts as it reads), and the five method files stay at
the top level with the plumbing in scalex/."""
import ast
import glob
import os

from conftest import ROOT

MAX_FILE, MAX_FUNCTION = 600, 100


def _sources():
    return sorted(p for pattern in ("*.py", "scalex/*.py", "tests/*.py") for p in glob.glob(os.path.join(ROOT, pattern)))


def test_no_file_over_600_lines():
    long = {os.path.relpath(p, ROOT): n for p in _sources() if (n := len(open(p, encoding="utf-8").read().splitlines())) > MAX_FILE}
    assert not long, f"files over {MAX_FILE} lines: {long}"


def test_no_function_over_100_lines():
    long = {}
    for p in _sources():
        for node in ast.walk(ast.parse(open(p, encoding="utf-8").read())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION:
                long[f"{os.path.relpath(p, ROOT)}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert not long, f"functions over {MAX_FUNCTION} lines: {long}"


def test_the_method_is_the_top_level():
    top = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "*.py"))}
    assert {"train.py", "data.py", "model.py", "kernels.py", "eval.py"} <= top
    assert top <= {"train.py", "data.py", "model.py", "kernels.py", "eval.py", "sweep.py", "bench.py"}, top
