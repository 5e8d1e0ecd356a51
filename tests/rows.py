"""Synthetic run records, as report.load_run returns them, for the report and claims tests."""
import random

NB = 40  # bootstrap resamples in tests: enough for an interval, fast on 2 cores


def rec(method, hrl, zh, seed=1, experiment="x", en=1.5, **kw):
    """A run record as report.load_run returns it; every method at an HRL size trains the same
    tokens (compute_key), so baselines there are compute-matched unless a test changes it."""
    r = {"dir": f"/r/{experiment}/{method}-en{hrl}-s{seed}", "method": method, "hrl": "en", "lrls": ["zh"],
         "budget": {"en": hrl, "zh": 1000}, "experiment": experiment, "seed": seed, "data_dir": "data/q",
         "tok_variant": "joint", "tok_sha": "t1", "plan_sha": f"p-{method}-{hrl}", "world_size": 1, "model": "tiny",
         "params": 100, "val_bpb": {"en": en, "zh": zh}, "val_bpb_se": {}, "steps": 10,
         "tokens_seen": {"en": hrl, "zh": 1000}, "val_tokens": None, "derived": {}, "transform": {},
         "downstream": {}, "bpb_extra": {}, "ood_bpb": {}, "ood_bpb_se": {}, "lrl_epochs": None,
         "compute_key": {"tokens": hrl + 1000, "steps": 10, "flops": None}}
    r.update(kw)
    return r


def law(d, E=1.0, A=0.8, alpha=0.5):
    return E + A * (d / 1e5) ** -alpha


SIZES = [100_000, 200_000, 400_000, 800_000, 1_600_000]


def offsets(key, n, noise):
    """n seed offsets with mean 0 and sample std exactly noise, drawn from a generator seeded
    by key: the row's mean is the value given, and paired differences between methods vary."""
    if n == 1:
        return [0.0]
    z = [random.Random(f"{key}|{i}").gauss(0, 1) for i in range(n)]
    m = sum(z) / n
    sd = (sum((x - m) ** 2 for x in z) / (n - 1)) ** 0.5
    return [noise * (x - m) / sd for x in z]


def curve_runs(method, values, noise=0.004, seeds=(1, 2, 3), sizes=SIZES, ood=None, **kw):
    """Each seed at each size, its value plus a seeded offset (seed std = noise); ood: the
    out-of-domain values, offset the same way."""
    out = []
    for i, (d, v) in enumerate(zip(sizes, values)):
        for s, o in zip(seeds, offsets(f"{method}|{d}", len(seeds), noise)):
            extra = {"ood_bpb": {"zh": ood[i] + o}} if ood else {}
            out.append(rec(method, d, v + o, seed=s, **extra, **kw))
    return out


def plateau(method, chrf):
    """Improves at first, then flat: the gain between the two largest sizes is ~0."""
    q = {"zh.translated": {"backend": "dict", "chrf": chrf, "translated_share": 0.9, "target_script_share": 0.9}}
    return curve_runs(method, [2.2, 2.0, 1.95, 1.95, 1.95], transform=q)
