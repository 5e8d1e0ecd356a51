"""
The one config mechanism of every script (nanoGPT's configurator, made strict).

A config is a Python file of plain assignments. The script's defaults come first, then the
file, then `--key=value` overrides from the command line; a key the script does not define is
an error. Bad input of any kind is reported as one line naming the field, exit code 2, before
any compute is spent (`ConfigError` + `fail`).
"""
import ast
import json
import os
import sys
import traceback


class ConfigError(Exception):
    """Bad input: reported as one line naming the field, exit code 2, before any compute."""


def fail(err):
    """The one line of bad input (exit 2); an OSError (a full disk, a read-only folder) names its path."""
    if isinstance(err, OSError):
        err = f"{err.filename or 'a file'}: {err.strerror or err}; free disk space or choose a folder you can write"
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)


def require(ok, message):
    """For config files: a condition the file's values must meet, else `message` (which names
    the field and the fix) is the one-line error, before anything derived from them fails."""
    if not ok:
        raise ConfigError(message)


def parse_args(argv):
    """Split `CONFIG --key=value --flag` into (positionals, overrides). Values are Python
    literals when they parse as one (numbers, dicts, True), strings otherwise; a value that
    opens a bracket must parse (a typo there is not silently a string). `-h` is `--help`."""
    pos, over = [], {}
    for a in argv:
        if a in ("-h", "--help"):
            over["help"] = True
            continue
        if not a.startswith("--"):
            pos.append(a)
            continue
        key, eq, val = a[2:].partition("=")
        if not key or not all(p.isidentifier() for p in key.split(".")):
            raise ConfigError(f"{a}: not an option; write --key=value (keys are names, nested ones joined by '.')")
        if not eq:
            over[key] = True
            continue
        try:
            over[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError) as e:
            if val.strip()[:1] and val.strip()[:1] in "[{(\"'":  # '' is a value (an empty string), not a bracket
                raise ConfigError(f"--{key}: cannot read {val!r} as a Python literal "
                                  f"({getattr(e, 'msg', e)}); quote the whole option in the shell: '--{key}=...'") from None
            over[key] = val
    return pos, over


class _ConfigNamespace(dict):
    """The namespace a config file runs in. An assignment to a key the command line overrides
    takes the override instead, so values the file derives from it follow: with
    `--budget.en=8000000`, a stage written as `{"en": budget["en"] - ...}` sees 8M.
    (exec() stores module-level names through __setitem__ when the namespace is not a plain dict.)"""

    def __init__(self, overrides):
        super().__init__()
        self._over = overrides

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, _apply_overrides(key, value, self._over))


def _apply_overrides(key, value, overrides):
    for path, v in overrides.items():
        head, *parts = path.split(".")
        if head == key and not parts:
            value = v
        elif head == key:
            value = node = json.loads(json.dumps(value))  # a copy: the file's literal is not shared
            for p in parts[:-1]:
                node = node.get(p) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise ConfigError(f"--{path}: '{'.'.join([key] + parts[:-1])}' is not a dict; set it whole with --{key}=...")
            node[parts[-1]] = v
    return value


def _exec_file(path, ns):
    """Run one config file; its include("x.py") runs x.py (relative to this file) in place."""
    if not os.path.isfile(path):
        raise ConfigError(f"config: no such file '{path}'")
    if path.endswith(".json"):
        raise ConfigError(f"config: {path} is JSON; a config is a Python file of assignments (key = value), e.g. config/quickstart/*.py")
    try:
        with open(path, encoding="utf-8") as f:
            src = f.read()
        code = compile(src, path, "exec")
    except (SyntaxError, ValueError, UnicodeDecodeError) as e:
        where = f" line {e.lineno}" if getattr(e, "lineno", None) else ""
        raise ConfigError(f"config: {path}{where}: {getattr(e, 'msg', None) or e}; fix the file") from None
    _check_statements(path, src)
    outer = ns.get("include")
    dict.__setitem__(ns, "include", lambda p: _exec_file(os.path.join(os.path.dirname(path), p), ns))
    dict.__setitem__(ns, "require", require)
    try:
        exec(code, ns)
    except ConfigError:
        raise
    except Exception as e:  # a config file is code: name the line it failed on, not a traceback
        line = next((fr.lineno for fr in reversed(traceback.extract_tb(e.__traceback__)) if fr.filename == path), None)
        raise ConfigError(f"config: {path}{f' line {line}' if line else ''} raised {type(e).__name__}: {e}; fix the file") from None
    dict.__setitem__(ns, "include", outer)


def _check_statements(path, src):
    """A statement that assigns nothing is a mistake, not a no-op: `lr_max: 1e-3` (a colon for
    `=`) is an annotation, and a JSON object or a bare expression is evaluated and dropped.
    Calls (include, require) and strings (docstrings) are the only bare expressions allowed."""
    for node in ast.walk(ast.parse(src, path)):
        if isinstance(node, ast.AnnAssign) and node.value is None:
            name = ast.get_source_segment(src, node.target)
            raise ConfigError(f"config: {path} line {node.lineno}: '{name}: ...' assigns nothing; write {name} = value")
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call) and not (
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            what = "a JSON-style dict" if isinstance(node.value, ast.Dict) else "an expression"
            raise ConfigError(f"config: {path} line {node.lineno}: {what} that assigns nothing; "
                              f"a config is Python assignments: write key = value")


def load_config(path, overrides, defaults):
    """Defaults, then the config file (which may include("other.py") beside it), then
    --key=value overrides. Any key not in `defaults` is an error; names starting with _ are
    the file's own helpers."""
    ns = _ConfigNamespace(overrides)
    for k, v in defaults.items():
        ns[k] = json.loads(json.dumps(v))
    if path:
        _exec_file(path, ns)
    for k in overrides:
        head = k.split(".")[0]
        if head not in defaults:
            raise ConfigError(f"--{k}: unknown config key '{head}'; known keys: {', '.join(sorted(defaults))}")
        ns[head] = ns[head]  # defaults the file never assigned still take their overrides
    cfg = {}
    for k, v in ns.items():
        if k.startswith("_") or k in ("include", "require", "__builtins__") or callable(v) or type(v).__name__ == "module":
            continue
        if k not in defaults:
            raise ConfigError(f"{k}: unknown config key in {path}; known keys: {', '.join(sorted(defaults))}")
        cfg[k] = v
    return cfg

