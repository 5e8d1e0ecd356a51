"""
The first call on a GPU (`python bench.py first`): benchmarks only, in about 4.4 minutes by
estimate, every row appended to OUT/bench-first.jsonl as it is made. It reuses bench.py's
benchmarks (passed in as `bench`: bench.py runs as a script, this is not imported from it).
"""
import json
import os
import time

# What `bench.py first` costs on one H100/H200, in seconds: ESTIMATES until a GPU has run it
# (it prints them first and the measured time per part last). Triton compiles one kernel in
# about 2 s on one host core; the first call launches each kernel's first candidate only (no
# autotune): the correctness shapes make 5 attention specialisations x 3 kernels and 3 CE ones
# x 2, ~21 compiles; the timing shapes add the D=128 one (3 more). The timed calls themselves
# are milliseconds (13 per baseline per shape). torch.compile of the 124M model takes about
# 50 s per backend, twice (ours, then SDPA + torch CE).
FIRST_ESTIMATE_S = {"start": 15, "correctness": 60, "attention": 30, "linear_ce": 40, "train_step": 120}


def bench_first(bench, tiny=False, out="."):
    """The first minutes on a GPU, benchmarks only: the device and versions, correctness of
    both kernels in bf16 and (the CE) fp32 against float64, ours vs SDPA flash/default and vs
    torch CE and Liger (when importable), one 124M training-step ratio. Each row is appended
    to OUT/bench-first.jsonl as it is made, so whatever stops the call keeps what was done."""
    import torch
    t0 = time.time()
    cuda = torch.cuda.is_available()
    path = os.path.join(out, "bench-first.jsonl")
    os.makedirs(out, exist_ok=True)
    total = sum(FIRST_ESTIMATE_S.values())
    print(f"first call: estimated {total / 60:.1f} min on one H100/H200 (" + ", ".join(f"{k} {v} s" for k, v in FIRST_ESTIMATE_S.items())
          + f"); rows go to {path} as they are made", flush=True)
    seen = {}

    def emit(row):
        part = "correctness" if "rel_err" in row else row["what"]
        seen[part] = time.time() - t0  # when the part's last row so far was done
        with open(path, "a") as f:
            f.write(json.dumps({"part": part, "t_s": round(seen[part], 1), **row}) + "\n")
        if part == "correctness":
            print(bench._check_line(row), flush=True)
        elif part in ("attention", "linear_ce"):
            print(bench._timing_line(row), flush=True)
    emit({"what": "start", **bench._versions(), "estimate_s": FIRST_ESTIMATE_S, "tiny": tiny})
    dtypes = [torch.bfloat16, torch.float32] if cuda else [torch.float32]
    res, _ = bench.bench_kernels(tiny, quick=True, dtypes=dtypes, emit=emit)
    emit({"what": "kernels", "correct": res["correct"], "liger": res["liger"]})
    row, lines = bench.bench_step(tiny, quick=True)
    emit(row)
    print("\n".join(lines), flush=True)
    parts = list(seen)  # in the order they came; each took from the previous one's last row to its own
    took = {p: seen[p] - (seen[parts[i - 1]] if i else 0) for i, p in enumerate(parts) if p in FIRST_ESTIMATE_S}
    emit({"what": "done", "wall_s": time.time() - t0, "part_s": took})
    lines = [f"first call: {time.time() - t0:.0f} s in all (estimated {total} s); per part, measured (estimate): "
             + ", ".join(f"{k} {v:.0f} s ({FIRST_ESTIMATE_S[k]} s)" for k, v in took.items()),
             "correctness vs float64: " + ("all ok" if res["correct"] else "FAILED")]
    return {"correct": res["correct"], "rows": path}, lines
