"""
The typed schema every command's settings are declared in: a table of (name, default, type,
meaning) per command (train.py's run settings, prepare's data settings, sweep's and eval's
options). A type accepts a value or says what it must be, so a wrong value is the same one
line for every key of every command: `KEY: must be WANT, got VALUE` (exit 2). Rules that
involve several keys are code beside the table they belong to. Torch-free: a config is
checked before torch loads, which is why the model's settings (ModelConfig, PRESETS) are here.
"""
import math
from dataclasses import dataclass, fields

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


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def Int(lo=None, hi=None):
    """An integer in [lo, hi)."""
    want = {None: "an integer", 0: "an integer >= 0", 1: "a positive integer"}.get(lo, f"an integer >= {lo}")
    want = want if hi is None else f"an integer in [{lo}, {'2**63' if hi == 2 ** 63 else hi})"
    return T(want, lambda v: _int(v) and (lo is None or v >= lo) and (hi is None or v < hi))


def Num(lo=None, hi=None, above=False):
    """A finite number >= lo (> lo if `above`), below hi."""
    want = "a number" + ("" if lo is None else f" {'>' if above else '>='} {lo}") + ("" if hi is None else f" and < {hi}")
    return T(want, lambda v: _num(v) and (lo is None or v > lo or v == lo and not above) and (hi is None or v < hi))


def Str(*choices, empty=False):
    """A one-line string (one of `choices` if given; "" only if `empty`)."""
    want = f"one of {', '.join(choices)}" if choices else "a string" if empty else "a non-empty one-line string"
    return T(want, lambda v: isinstance(v, str) and (v in choices if choices else (empty or v.strip()) and not {"\n", "\0"} & set(v)))


def Dict(each, want="a dict", nonempty=False):
    return T(want, lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v) and (v or not nonempty), each=each)


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
        for k, (_, _, t, _) in self.keys.items():
            if k in cfg:
                t.check(self.prefix + k, cfg[k])
        return cfg

    def help(self):
        """Every key with its default, meaning and type, under its section's heading."""
        out = []
        for r in self.rows:
            out += ["", f"  [{r}]"] if isinstance(r, str) else [f"  --{r[0]}={r[1]!r}\n      {r[3]} ({r[2].want})"]
        return "\n".join(out)


# ----------------------------------------------------------------------------- the model
@dataclass
class ModelConfig:
    vocab_size: int = 4096
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int = 4      # < n_head: grouped-query attention
    d_model: int = 128
    d_ff: int = 0           # 0: SwiGLU's usual 8/3 * d_model rounded up to a multiple of 64
    block_size: int = 128
    rope_theta: float = 10000.0
    tie_embeddings: bool = False


# Sizes from a CPU smoke test to ~1B. Parameter counts at vocab 50k are in the comments.
PRESETS = {
    "tiny": dict(n_layer=2, n_head=4, n_kv_head=4, d_model=128),                 # CPU quickstart
    "small": dict(n_layer=4, n_head=4, n_kv_head=4, d_model=256),                # CPU, ~30M
    "mini": dict(n_layer=6, n_head=8, n_kv_head=8, d_model=512),                 # one GPU, ~10 min sweeps (config/mini)
    "124m": dict(n_layer=12, n_head=12, n_kv_head=12, d_model=768),              # GPT-2 small size
    "350m": dict(n_layer=24, n_head=16, n_kv_head=16, d_model=1024),
    "1b": dict(n_layer=16, n_head=32, n_kv_head=8, d_model=2048, d_ff=8192),     # Llama-3.2-1B shape
}
# model_args: every ModelConfig field but the two the run and its data set
MODEL_ARGS = Record("a dict of model settings", **{
    f.name: {"int": Int(0 if f.name == "d_ff" else 1), "float": Num(0, above=True), "bool": BOOL}[f.type.__name__]
    for f in fields(ModelConfig) if f.name not in ("vocab_size", "block_size")})
