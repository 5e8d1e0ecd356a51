"""
The one config mechanism of every script (nanoGPT's configurator, made strict).

A config is a Python file of plain assignments. The script's defaults come first, then the
file, then `--key=value` overrides from the command line; a key the script does not define is
an error. Bad input of any kind is reported as one line naming the field, exit code 2, before
any compute is spent (`ConfigError` + `fail`).
"""
import ast
import hashlib
import io
import json
import os
import sys
import time
import tokenize
import traceback


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


def read_json(path, fix):
    """A JSON file we wrote; a torn or edited one is one line naming it and `fix`."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid JSON ({str(e)[:80]}), truncated or edited; {fix}") from None


# ----------------------------------------------------------------------------- locks
_LOCKS = {}  # path -> the held filelock.FileLock (an flock: the OS drops it when the process dies)


def lock(path, what, fix):
    """Exclusive lock on `path` (created if missing) until unlock(path) or the process exits:
    a second process on the same run or data dir gets one line instead of interleaving writes.
    The holder writes its pid into the file, which that line quotes."""
    from filelock import FileLock, Timeout
    if path in _LOCKS:
        raise ConfigError(f"{what}: already in use by this process; {fix}")
    held = FileLock(path, timeout=0, is_singleton=False)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        held.acquire()
        with open(path, "w") as f:  # the file stays on release (removing it would race a waiting locker)
            f.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
    except Timeout:
        with open(path) as f:
            holder = f.read().strip() or "another process"
        raise ConfigError(f"{what}: in use by {holder} (lock {path}); {fix}") from None
    except OSError as e:
        raise ConfigError(f"{what}: cannot create {path} ({e.strerror}); choose a folder that is a directory you can write") from None
    _LOCKS[path] = held
    return path


def unlock(path):
    held = _LOCKS.pop(path, None)
    if held:
        held.release(force=True)


# ----------------------------------------------------------------------------- help
def help_text(script, doc):
    """Usage (the script's docstring) and every key of its defaults block with its default
    and its comment, read from the source: the block between `# defaults` and `DEFAULTS =`.
    A comment above a key is its comment, unless it is a short lowercase line ("# model"),
    which heads a section."""
    with open(script, encoding="utf-8") as f:
        src = f.read()
    lines = src.splitlines()
    a = next(i for i, ln in enumerate(lines) if ln.startswith("# defaults"))
    b = next(i for i, ln in enumerate(lines) if ln.startswith("DEFAULTS ="))
    comments = {}
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type == tokenize.COMMENT and a < t.start[0] - 1 < b:
            comments[t.start[0]] = t.string.lstrip("#").strip()
    out = [doc.strip(), "", "config keys (a config file sets them; --key=value overrides; --help: this):"]
    above = []
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Assign) and a < node.lineno - 1 < b):
            continue
        own = " ".join(comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments
                       and not lines[n - 1].lstrip().startswith("#"))
        above = []
        n = node.lineno - 1
        while n in comments and lines[n - 1].lstrip().startswith("#"):
            above.insert(0, comments[n])
            n -= 1
        heading = len(above) == 1 and len(above[0]) < 40 and all(c.islower() or c in " ,&/" for c in above[0])
        if heading:
            out += ["", f"  [{above[0]}]"]
        text = own or ("" if heading else " ".join(above))
        targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else node.targets
        values = node.value.elts if isinstance(node.value, ast.Tuple) and len(targets) > 1 else [node.value]
        for t, v in zip(targets, values):
            out.append(f"  --{t.id}={' '.join(ast.get_source_segment(src, v).split())}" + (f"\n      {text}" if text else ""))
    return "\n".join(out)


# ----------------------------------------------------------------------------- progress
class _Lines:
    """tqdm's interface for logs: a plain line every `every` seconds and one at the end."""

    def __init__(self, total, desc, unit, initial, every):
        self.total, self.desc, self.unit, self.n, self.every = total, desc, unit, initial, every
        self.t0 = self.t_last = time.time()
        self.n0, self.post = initial, ""

    def update(self, k=1):
        self.n += k
        if time.time() - self.t_last >= self.every:
            self._line()

    def set_postfix(self, **kw):
        self.post = ", ".join(f"{k}={v}" for k, v in kw.items())

    def _line(self):
        self.t_last = time.time()
        rate = (self.n - self.n0) / max(1e-9, self.t_last - self.t0)
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        left = f", {(self.total - self.n) / rate:.0f}s left" if self.total and rate > 0 else ""
        print(f"{self.desc}: {self.n:,}{f'/{self.total:,}' if self.total else ''} {self.unit}{pct}, "
              f"{rate:,.1f} {self.unit}/s{left}{f', {self.post}' if self.post else ''}", flush=True)

    def close(self):
        if self.n != self.n0:
            self._line()
            self.n0 = self.n


def progress(total=None, desc="", unit="it", initial=0, disable=False):
    """A progress bar on a terminal; in logs (stdout not a terminal) a plain line every
    SCALEX_PROGRESS_S seconds (30) instead, so CI and nohup logs still show where a run is."""
    from tqdm import tqdm
    if disable or sys.stdout.isatty():
        return tqdm(total=total, desc=desc, unit=unit, initial=initial, disable=disable, dynamic_ncols=True, leave=False)
    return _Lines(total, desc, unit, initial, float(os.environ.get("SCALEX_PROGRESS_S", "30")))
