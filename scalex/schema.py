"""
The typed schema every command's settings are declared in: a table of (name, default, type,
meaning) per command (train.py's run settings, prepare's data settings, sweep's and eval's
options). A type accepts a value or says what it must be, so a wrong value is the same one
line for every key of every command: `KEY: must be WANT, got VALUE` (exit 2). Rules that
involve several keys are code beside the table they belong to. Torch-free: a config is
checked before torch loads.
"""
import functools
import math

from scalex.configurator import ConfigError


class T:
    """A type: `want` (what a value must be), `test` (accepts one); a container also types its
    entries: `each` (every dict value or list item) or `fields` (a record's, by name)."""

    def __init__(self, want, test, each=None, fields=None, need=()):
        self.want, self.test, self.each, self.fields, self.need = want, test, each, fields, need

    def check(self, key, v):
        if not self.test(v):
            raise ConfigError(f"{key}: must be {self.want}, got {v!r}")
        if self.each is None and self.fields is None:
            return
        for k in self.need:
            if k not in v:
                raise ConfigError(f"{key}.{k}: missing; {key} must be {self.want}")
        for k, x in (v.items() if isinstance(v, dict) else enumerate(v)):
            sub = f"{key}.{k}" if isinstance(v, dict) else f"{key}[{k}]"
            t = self.each if self.fields is None else self.fields.get(k)
            if t is None:
                raise ConfigError(f"{sub}: unknown field; use {', '.join(self.fields)}")
            t.check(sub, x)


def Num(lo=None, hi=None, above=False, integer=False):
    """A finite number (an integer if `integer`) >= lo (> lo if `above`) and < hi."""
    want = "a positive integer" if integer and lo == 1 else ("an integer" if integer else "a number") + (
        "" if lo is None else f" {'>' if above else '>='} {lo}")
    want += "" if hi is None else f" and < {'2**63' if hi == 2 ** 63 else hi}"
    return T(want, lambda v: isinstance(v, int if integer else (int, float)) and not isinstance(v, bool)
             and (isinstance(v, int) or math.isfinite(v)) and (lo is None or v > lo or v == lo and not above) and (hi is None or v < hi))


Int = functools.partial(Num, integer=True)  # an integer >= lo and < hi


def Str(*choices, empty=False):
    """A one-line string (one of `choices` if given; "" only if `empty`)."""
    want = f"one of {', '.join(choices)}" if choices else "a string" if empty else "a non-empty one-line string"
    return T(want, lambda v: isinstance(v, str) and (v in choices if choices else (empty or v.strip()) and not {"\n", "\0"} & set(v)))


def Dict(each, want="a dict", nonempty=False, keys=str.isidentifier):
    """A dict whose keys are names (`keys` accepts one) and whose values are `each`."""
    return T(want, lambda v: isinstance(v, dict) and all(isinstance(k, str) and keys(k) for k in v) and (v or not nonempty), each=each)


def List(each, want="a list", n=None, nonempty=False):
    return T(want, lambda v: isinstance(v, list) and (n is None or len(v) == n) and (v or not nonempty), each=each)


def Record(want, need=(), **fields):
    return T(want, lambda v: isinstance(v, dict), fields=fields, need=need)


BOOL = T("True or False", lambda v: isinstance(v, bool))


class Table:
    """A command's settings: rows (name, default, type, meaning); a bare string heads a section
    of --help. `prefix` is "--" for command-line options (their errors say --name)."""

    def __init__(self, *rows, prefix=""):
        self.rows, self.prefix = rows, prefix
        self.keys = {r[0]: r for r in rows if not isinstance(r, str)}
        self.defaults = {k: r[1] for k, r in self.keys.items()}

    def check(self, cfg):
        for k in (k for k in self.keys if k in cfg):  # in the table's order: the first key wrong is named
            self.keys[k][2].check(self.prefix + k, cfg[k])
        return cfg

    def help(self):
        """Every key with its default, meaning and type, under its section's heading."""
        out = []
        for r in self.rows:
            out += ["", f"  [{r}]"] if isinstance(r, str) else [f"  --{r[0]}={r[1]!r}\n      {r[3]} ({r[2].want})"]
        return "\n".join(out)
