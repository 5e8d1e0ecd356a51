"""
The one config mechanism of every script (nanoGPT's configurator, made strict).

A config is a Python file of plain assignments. The script's defaults come first, then the
file, then `--key=value` overrides from the command line; a key the script does not define is
an error. Bad input of any kind is reported as one line naming the field, exit code 2, before
any compute is spent (`ConfigError` + `fail`).
"""
import ast
import hashlib
import json
import os
import sys


class ConfigError(Exception):
    """Bad input: reported as one line naming the field, exit code 2, before any compute."""


def fail(err):
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)


def require(ok, message):
    """For config files: a condition the file's values must meet, else `message` (which names
    the field and the fix) is the one-line error, before anything derived from them fails."""
    if not ok:
        raise ConfigError(message)


def parse_args(argv):
    """Split `CONFIG --key=value --flag` into (positionals, overrides). Values are Python
    literals when they parse as one (numbers, dicts, True), strings otherwise."""
    pos, over = [], {}
    for a in argv:
        if not a.startswith("--"):
            pos.append(a)
            continue
        key, eq, val = a[2:].partition("=")
        if not eq:
            over[key] = True
            continue
        try:
            over[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
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
        head, _, rest = path.partition(".")
        if head != key:
            continue
        if not rest:
            value = v
            continue
        value = json.loads(json.dumps(value))  # a copy: the file's literal is not shared
        node = value
        parts = rest.split(".")
        for p in parts[:-1]:
            if not isinstance(node, dict) or p not in node:
                raise ConfigError(f"--{path}: '{key}' has no entry '{p}'")
            node = node[p]
        if not isinstance(node, dict):
            raise ConfigError(f"--{path}: '{key}' is not a dict; set it whole with --{key}=...")
        node[parts[-1]] = v
    return value


def _exec_file(path, ns):
    """Run one config file; its include("x.py") runs x.py (relative to this file) in place."""
    if not os.path.isfile(path):
        raise ConfigError(f"config: no such file '{path}'")
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    outer = ns.get("include")
    dict.__setitem__(ns, "include", lambda p: _exec_file(os.path.join(os.path.dirname(path), p), ns))
    dict.__setitem__(ns, "require", require)
    exec(code, ns)
    dict.__setitem__(ns, "include", outer)


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


# ----------------------------------------------------------------------------- files
# Every file a run or a data dir depends on is written atomically and identified by hash.
def sha256_file(path, chunk=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def atomic_write(path, write_fn, mode="wb"):
    """Write through a temp file and rename: a reader sees the old file or the whole new one,
    never a torn one, whatever kills us in between."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, mode) as f:
        write_fn(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    atomic_write(path, lambda f: json.dump(obj, f, indent=1), mode="w")
