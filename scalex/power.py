"""
How often the claims' verdicts are right, on synthetic run tables whose truth is known:

    python -m scalex.power                    500 draws at 3, 5 and 10 seeds (minutes)
    python -m scalex.power --draws=2000 --sd=0.03 --seeds=3,5

For each claim it prints the false-positive rate (how often "supported" comes out when every
method is equal and nothing scales) and the power (how often it comes out for a stated, realistic
effect: EFFECTS bpb in the claim's favour, per comparison). A run's bpb is its point's mean plus
seed noise of standard deviation SD (the quickstart's seed std is 0.005-0.05 bpb). tests/ use
the same tables (`runs`).
"""
import random
import sys

from scalex import claims, table

SD = 0.02          # seed noise of one run, bpb
EFFECTS = (0.05, 0.1)  # the effects the power is quoted for, bpb per comparison
SIZES = [100_000, 200_000, 400_000, 800_000]
SEEDS = (3, 5, 10)
DRAWS = 500
SPLITS = ("val", "test", "ood")


def row(method, size, seed, bpb, **settings):
    """One synthetic run: bpb {"val.zh": ..} plus settings; every method at a size trains the
    same tokens (compute-matched) unless tokens= says otherwise."""
    base = {"method": method, "hrl": "en", "lrl": "zh", "lrls": "zh", "budget.en": size,
            "budget.zh": 20_000, "lrl_epochs": 4, "model": "tiny", "tokenizer": "joint"}
    res = {"tokens": size + 80_000, "epochs.zh": 4.0, "flops": None}
    for k in list(settings):
        if table.is_result(k):
            res[k] = settings.pop(k)
    return {**base, **settings, "seed": seed, "experiment": "x", "plan_sha": None,
            "dir": f"/synthetic/{method}-{size}-{seed}", **res, **bpb}


def truth(effect=0.0, plateau=None):
    """{(method, size, settings): {"val.zh", "ood.zh"}} means: the null (effect 0: every method
    at 3.0 everywhere) or every claim true by `effect` per comparison; plateau: ScaleX's means
    by size instead (e.g. [3.0, 2.8, 2.75, 2.75])."""
    e, out = effect, {}
    for i, s in enumerate(SIZES):
        sx = plateau[i] if plateau else 3.0 - e * i  # scales: gains e per doubling
        # translate gains like ScaleX up to the third size, then nothing: (a)'s last step
        means = {"scalex": sx, "joint": sx + e, "lrl_only": sx + e, "scalex_cosine": sx + e,
                 "scalex_wsd": sx + e, "translate": 3.0 + e - e * min(i, 2)}
        for m, v in means.items():
            out[(m, s, ())] = v
        out[("scalex", s, (("tokenizer", "disjoint"), ("vocab_size", 4096)))] = sx + e
        out[("scalex", s, (("lrls", "zh,ja"),))] = sx
        out[("joint", s, (("lrls", "zh,ja"),))] = sx + e
    for ep in (1, 2, 4, 8):  # the best-LRL-only sweep at the first size
        out[("lrl_only_epochs", SIZES[0], (("lrl_epochs", ep),))] = out[("lrl_only", SIZES[-1], ())] + (
            0.0 if ep == 8 else 0.3)
    return out


def runs(means, n_seeds, sd=SD, rng=None, ood_shift=0.0):
    """A run table from `truth` means: each seed's value = mean + N(0, sd) on every split."""
    rng = rng or random.Random(0)
    rows = []
    for (m, s, extra), v in sorted(means.items(), key=str):
        x = dict(extra)
        if m == "translate":
            x.update(chrf=30.0, translator="mt")
        if m == "lrl_only_epochs":
            x.update(tokens=20_000 * x["lrl_epochs"])
        for seed in range(1, n_seeds + 1):
            bpb = {f"{split}.{l}": v + (ood_shift if split == "ood" else 0.0) + rng.gauss(0, sd)
                   for split in SPLITS for l in x.get("lrls", "zh").split(",")}
            rows.append(row(m, s, seed, bpb, **x))
    return rows


def rates(means, n_seeds, draws, sd=SD, seed=0):
    """{claim: share of draws whose verdict on the primary set is "supported"}."""
    rng, hits = random.Random(seed), {k: 0 for k in claims.CLAIMS}
    for _ in range(draws):
        v = claims.verdicts(table.points(runs(means, n_seeds, sd, rng)))
        for k, c in v.items():
            hits[k] += c["verdict"].startswith(claims.SUP)
    return {k: h / draws for k, h in hits.items()}


def main(argv):
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    draws, sd = int(opts.get("draws", DRAWS)), float(opts.get("sd", SD))
    seeds = [int(n) for n in opts.get("seeds", ",".join(map(str, SEEDS))).split(",")]
    print(f"{draws} draws per cell; seed sd {sd} bpb per run; FPR: share 'supported' with no effect; "
          f"power: share 'supported' at an effect of {' / '.join(map(str, EFFECTS))} bpb")
    cols = [(n, e) for n in seeds for e in (0.0,) + EFFECTS]
    res = {(n, e): rates(truth(e), n, draws, sd, seed=i) for i, (n, e) in enumerate(cols)}
    print("| claim | " + " | ".join(f"{n} seeds: " + ("FPR" if e == 0 else f"power at {e}") for n, e in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for k, (text, _) in claims.CLAIMS.items():
        print(f"| ({k}) {text} | " + " | ".join(f"{res[c][k]:.3f}" for c in cols) + " |")
    plateau = [3.0, 2.8, 2.75, 2.75]
    for n in seeds:
        r = rates(truth(plateau=plateau), n, draws, sd, seed=99)["b"]
        print(f"(b) on a plateau {tuple(plateau)}, {n} seeds: 'supported' in {r:.3f} of draws")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
