"""Synthetic run records, as report.load_run returns them, for the report and claims tests."""


NB = 40  # bootstrap resamples in tests: enough for an interval, fast on 2 cores


def rec(method, hrl, zh, seed=1, experiment="x", en=1.5, **kw):
    """A run record as report.load_run returns it."""
    r = {"dir": f"/r/{experiment}/{method}-en{hrl}-s{seed}", "method": method, "hrl": "en", "lrls": ["zh"],
         "budget": {"en": hrl, "zh": 1000}, "experiment": experiment, "seed": seed, "data_dir": "data/q",
         "tok_variant": "joint", "tok_sha": "t1", "plan_sha": f"p-{method}-{hrl}", "world_size": 1, "model": "tiny",
         "params": 100, "val_bpb": {"en": en, "zh": zh}, "val_bpb_se": {}, "steps": 10,
         "tokens_seen": {"en": hrl, "zh": 1000}, "val_tokens": None, "derived": {}, "transform": {},
         "downstream": {}, "bpb_extra": {}}
    r.update(kw)
    return r


def law(d, E=1.0, A=0.8, alpha=0.5):
    return E + A * (d / 1e5) ** -alpha


SIZES = [100_000, 200_000, 400_000, 800_000, 1_600_000]


def curve_runs(method, values, noise=0.004, seeds=(1, 2), **kw):
    """Two seeds at each size, +-noise around the given value: a seed spread of noise*sqrt(2)."""
    return [rec(method, d, v + (noise if s == seeds[0] else -noise), seed=s, **kw)
            for d, v in zip(SIZES, values) for s in seeds]


def plateau(method, chrf):
    """Improves at first, then flat: the gain between the two largest sizes is ~0."""
    q = {"zh.translated": {"backend": "dict", "chrf": chrf, "translated_share": 0.9, "target_script_share": 0.9}}
    return curve_runs(method, [2.2, 2.0, 1.95, 1.95, 1.95], transform=q)
