"""
Every benchmark of the repository, in one file (kernels.py knows no model, data.py no timing).

    python bench.py first [--out=DIR] [--tiny]    the first call on a GPU, benchmarks only (about 4.4 min,
                                                  an estimate): device and versions, both kernels' correctness
                                                  in bf16 and fp32, ours vs SDPA / torch CE / Liger, one
                                                  training-step ratio; a JSON line per row as it goes to
                                                  DIR/bench-first.jsonl; --tiny: the same in the interpreter
    python bench.py [all] [--quick] [--out=DIR]   on a GPU, in one go: hopper, kernels, step, loop;
                                                  --quick: kernels and step only, no autotune; a table last
    python bench.py kernels [--tiny] [--quick]    kernel correctness in bf16 against float64,
                                                  then ours vs SDPA / torch / Liger-Kernel
    python bench.py step                          one 124M training step, ours vs SDPA + torch CE
    python bench.py loop [--tiny]                 the training loop's tokens/s vs its step alone (CPU ok)
    python bench.py hopper                        compile every kernel at every launch config for
                                                  sm_90 (no GPU needed): registers, spills, wgmma
    python bench.py ckpt [--preset=small --vocab=50304 --B=16 --T=128 --steps=30 --every=10]
                                                  what a checkpoint costs the training loop (CPU ok)
    python bench.py data [--local_dir=DIR] [--mb=64] [--gb=1]   tokenisation MB/s, prepare memory

Without a GPU, `all`, `kernels` and `step` print one line saying so, and how to check
the kernels in Triton's interpreter instead (TRITON_INTERPRET=1 python bench.py kernels --tiny).
Results go to DIR (default: the OUT environment variable when set) as JSON, one file per benchmark.
Exit codes: 0 done, 1 a correctness check or a benchmark failed (the others still run and
report), 2 bad usage or no GPU for a GPU benchmark.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

from scalex.hopper import ATTN_SHAPES, CE_CHECKS, CE_SHAPES, CHECK_SHAPES

GPU_ONLY = ("first", "all", "kernels", "step")
NO_GPU = ("bench: no CUDA GPU here, so nothing to time; check the kernels in Triton's interpreter instead: "
          "TRITON_INTERPRET=1 python bench.py kernels --tiny (and `python bench.py hopper` compiles them for sm_90)")


def _timeit(fn, reps, cuda, warmup=3):
    """Median seconds of fn() after warm-up (CUDA events on a GPU)."""
    import torch
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if cuda:
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_extra(fn, cuda):
    """Peak bytes fn() allocates beyond what is live before it (CUDA only)."""
    import torch
    if not cuda:
        return None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def _versions():
    import torch
    try:
        import triton
        tv = triton.__version__
    except ImportError:
        tv = None
    cuda = torch.cuda.is_available()
    return {"device": torch.cuda.get_device_name() if cuda else "cpu", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "torch": torch.__version__, "triton": tv, "cuda": torch.version.cuda, "python": sys.version.split()[0]}




# ============================================================================= kernels
def _rel(a, b):
    """||a - b|| / max(||b||, 1): the floor keeps an exactly-zero reference (dK and dQ of a
    one-token sequence) from turning rounding noise into a huge relative error."""
    return ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1.0)).item()


def check_kernels(dev, dtypes, tiny=False, emit=lambda row: None):
    """Correctness in each of `dtypes` against float64: attention (odd lengths, grouped query,
    one token) and linear + cross-entropy (ignored targets), forward and every gradient. On a
    GPU attention is checked in half precision only: fp32 inputs take the torch path there
    (kernels.attention: tl.dot would round them to tf32)."""
    import torch

    import kernels
    checks, cuda = [], dev == "cuda"
    for dt in dtypes:
        tol = 3e-2 if dt == torch.bfloat16 else 1e-4
        attn = [(1, 2, 1, 37, 16), (2, 2, 2, 1, 16)] if tiny else CHECK_SHAPES
        for B, H, Hkv, T, D in attn if dt != torch.float32 or not cuda else []:
            q = torch.randn(B, H, T, D, device=dev, dtype=dt, requires_grad=True)
            k, v = (torch.randn(B, Hkv, T, D, device=dev, dtype=dt, requires_grad=True) for _ in range(2))
            o = kernels.attention(q, k, v)
            do = torch.randn_like(o)
            o.backward(do)
            r = [x.detach().double().requires_grad_() for x in (q, k, v)]
            ro = kernels.attention_reference(*r)
            ro.backward(do.double())
            errs = {"out": _rel(o, ro), "dq": _rel(q.grad, r[0].grad), "dk": _rel(k.grad, r[1].grad), "dv": _rel(v.grad, r[2].grad)}
            checks.append({"what": "attention", "dtype": str(dt)[6:], "shape": [B, H, Hkv, T, D], "rel_err": errs,
                           "ok": max(errs.values()) < tol})
            emit(checks[-1])
        ce = [(64, 16, 300, str(dt)[6:])] if tiny else [c for c in CE_CHECKS if c[3] == str(dt)[6:]]
        for N, C, V, _ in ce:
            h = (torch.randn(N, C, device=dev) / math.sqrt(C)).to(dt).requires_grad_()
            w = torch.randn(V, C, device=dev).to(dt).requires_grad_()
            t = torch.randint(0, V, (N,), device=dev)
            t[::7] = -100
            loss = kernels.linear_cross_entropy(h, w, t)
            loss.mean().backward()
            hd, wd = h.detach().double().requires_grad_(), w.detach().double().requires_grad_()
            rl = kernels.linear_cross_entropy_reference(hd, wd, t)
            rl.mean().backward()
            errs = {"loss": _rel(loss, rl), "dh": _rel(h.grad, hd.grad), "dw": _rel(w.grad, wd.grad)}
            checks.append({"what": "linear_ce", "dtype": str(dt)[6:], "shape": [N, C, V], "rel_err": errs, "ok": max(errs.values()) < tol})
            emit(checks[-1])
    return checks


def _time_each(row, runs, reps, cuda, save):
    """Times each baseline on its own: one that fails (a Liger version returning a tuple) is
    recorded as an error and the others, and what was measured before, are kept."""
    for name, fn in runs.items():
        try:
            row[f"{name}_s"] = _timeit(fn, reps, cuda)
            mem = _peak_extra(fn, cuda)
            row[f"{name}_mib"] = None if mem is None else mem / 2**20
        except Exception as e:  # noqa: BLE001
            row[f"{name}_error"] = f"{type(e).__name__}: {e}"[:200]
        save()


def bench_kernels(tiny=False, quick=False, save=lambda res: None, dtypes=None, emit=lambda row: None):
    """Correctness on this device against float64 (in `dtypes`: the training dtype unless
    given), then ours vs the baselines in one run; `save(res)` is called after each row and
    `emit(row)` with each finished row, so a later failure loses nothing measured."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend

    import kernels
    reps = 3 if tiny else (10 if quick else 30)
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    dt = torch.bfloat16 if cuda else torch.float32
    res = {**_versions(), "dtype": str(dt), "quick": quick, "timings": []}
    if not cuda:
        res["device"] = "cpu (Triton interpreter)"
    kernels.set_backend("triton")
    candidates = kernels.attn_candidates
    if quick:  # no autotune: each kernel's first candidate, one compile each
        kernels.attn_candidates = lambda kernel, D: candidates(kernel, D)[:1]
    try:
        res["checks"] = check_kernels(dev, dtypes or [dt], tiny, emit)
        res["correct"] = all(c["ok"] for c in res["checks"])
        save(res)
        for B, H, T, D in ([(1, 2, 64, 16)] if tiny else ATTN_SHAPES):
            q, k, v = (torch.randn(B, H, T, D, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
            do = torch.randn(B, H, T, D, device=dev, dtype=dt)
            sdpa = lambda be: lambda: _sdpa_fwd_bwd(q, k, v, do, be)
            runs = {"ours": lambda: kernels.attention(q, k, v).backward(do), "sdpa_default": sdpa(None),
                    "sdpa_flash": sdpa(SDPBackend.FLASH_ATTENTION if cuda else SDPBackend.MATH)}
            row = {"what": "attention", "shape": f"B{B} H{H} T{T} D{D}", "flops": 3.5 * 4 * B * H * T * T * D / 2}
            res["timings"].append(row)  # causal forward: half of 4BHT^2D; backward 2.5x forward
            _time_each(row, runs, reps, cuda, lambda: save(res))
            emit(row)
        try:
            from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss
            liger, res["liger"] = LigerFusedLinearCrossEntropyLoss(), "imported"
        except Exception as e:  # noqa: BLE001 - not installed, or not for this torch/triton: torch only
            liger, res["liger"] = None, f"not available: {type(e).__name__}: {e}"[:200]
        ce = [(64, 16, 300)] if tiny else (CE_SHAPES[::2] if quick else CE_SHAPES)
        for N, C, V in ce:
            h = (torch.randn(N, C, device=dev) / math.sqrt(C)).to(dt).requires_grad_()
            w = (torch.randn(V, C, device=dev) * 0.02).to(dt).requires_grad_()
            t = torch.randint(0, V, (N,), device=dev)
            runs = {"ours": lambda: kernels.linear_cross_entropy(h, w, t).mean().backward(),
                    "torch": lambda: F.cross_entropy((h @ w.t()).float(), t).backward()}
            if liger is not None:  # a tuple (loss, ...) from newer versions: the loss is first
                runs["liger"] = lambda: (lambda out: out[0] if isinstance(out, tuple) else out)(liger(w, h, t)).backward()
            row = {"what": "linear_ce", "shape": f"N{N} C{C} V{V}"}
            res["timings"].append(row)
            for name in runs:
                runs[name] = (lambda f: lambda: (setattr(h, "grad", None), setattr(w, "grad", None), f()))(runs[name])
            _time_each(row, runs, reps, cuda, lambda: save(res))
            emit(row)
    finally:
        kernels.attn_candidates = candidates
        kernels.set_backend("auto")
    return res, _kernel_lines(res)


def _sdpa_fwd_bwd(q, k, v, do, backend):
    import torch.nn.functional as F
    from torch.nn.attention import sdpa_kernel
    if backend is None:  # torch's own choice of backend (cuDNN on recent cards, often faster)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(do)
    with sdpa_kernel(backend):
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(do)


def _check_line(c):
    errs = "  ".join(f"{k} {v:.1e}" for k, v in c["rel_err"].items())
    return f"  {c['what']:<10}{c['dtype']:<10}{str(c['shape']):<26}{errs}" + ("" if c["ok"] else "  FAIL")


def _timing_line(r):
    fmt = lambda k, f: r[f"{k}_error"][:40] if f"{k}_error" in r else (f(r[f"{k}_s"]) if f"{k}_s" in r else "-")
    mib = lambda k: "" if r.get(f"{k}_mib") is None else f" {r[f'{k}_mib']:,.0f} MiB"
    if r["what"] == "attention":
        tf = lambda s: f"{r['flops'] / s / 1e12:.1f} TF/s"
        ratio = " ".join(f"{r[k + '_s'] / r['ours_s']:.2f}x vs {k[5:]}" for k in ("sdpa_flash", "sdpa_default") if "ours_s" in r and k + "_s" in r)
        return (f"attention  {r['shape']:<22} ours {fmt('ours', tf)} | SDPA flash {fmt('sdpa_flash', tf)}"
                f" | SDPA default {fmt('sdpa_default', tf)}  {ratio} (fwd+bwd)")
    ms = lambda s: f"{s * 1e3:.1f} ms"
    base = " | ".join(f"{k} {fmt(k, ms)}{mib(k)}" for k in ("torch", "liger") if f"{k}_s" in r or f"{k}_error" in r)
    ratio = " ".join(f"{r[k + '_s'] / r['ours_s']:.2f}x vs {k}" for k in ("liger", "torch") if "ours_s" in r and k + "_s" in r)
    return f"linear_ce  {r['shape']:<22} ours {fmt('ours', ms)}{mib('ours')} | {base}  {ratio}"


def _kernel_lines(res):
    return ([f"device: {res['device']}  torch {res['torch']}  triton {res['triton']}  {res['date']}",
             "correctness vs float64 (rel err): " + ("all ok" if res["correct"] else "FAILED")]
            + [_check_line(c) for c in res["checks"]] + [_timing_line(r) for r in res["timings"]])


# ============================================================================= training step and loop
def _step_fn(preset, V, T, B, backend, dev, compile_):
    """One optimizer step of `preset` on a fixed batch, as train.py takes it."""
    import torch

    import kernels
    from model import build_model
    kernels.set_backend(backend)
    torch.manual_seed(0)
    m = build_model(preset, V, T).to(dev)
    cuda = dev == "cuda"
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, fused=cuda)
    cm = torch.compile(m) if compile_ else m
    x = torch.randint(0, V, (B, T + 1), device=dev)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = cm(x[:, :-1], x[:, 1:]).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def bench_step(tiny=False, quick=False):
    """A 124M training step (T1024, bf16, fused AdamW, torch.compile): ours vs SDPA + torch CE."""
    import torch
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    preset, V, T, B = ("tiny", 320, 16, 1) if tiny else ("124m", 50304, 1024, 16)
    row = {**_versions(), "what": "train_step", "shape": f"{preset} B{B} T{T} V{V}"}
    for backend in ("triton", "torch"):
        step = _step_fn(preset, V, T, B, backend, dev, compile_=cuda)
        row[f"{backend}_tok_s"] = B * T / _timeit(step, 2 if tiny else (10 if quick else 20), cuda, 1 if tiny else 3)
    row["ratio"] = row["triton_tok_s"] / row["torch_tok_s"]
    import kernels
    kernels.set_backend("auto")
    return row, [f"{'train_step':<11}{row['shape']:<24}{row['triton_tok_s']:>14,.0f} tok/s{'SDPA + torch CE ' + format(row['torch_tok_s'], ',.0f') + ' tok/s':>44}"
                 f"{row['ratio']:>10.2f}x"]


def _synthetic_data(d, n_bytes):
    """A prepared data dir of random-word English (no download), about n_bytes of text."""
    import random

    from scalex import prepare
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "en.jsonl"), "w") as f:
        for _ in range(n_bytes // 2000):
            f.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(330))}) + "\n")
    cfg = dict(prepare.DEFAULTS, data_dir=os.path.join(d, "prep"), local_dir=d, languages={"en": ""}, max_tokens={"en": n_bytes // 8},
               val_tokens=5_000, test_tokens={"en": 5_000}, vocab_size=2048, tokenizer_sample_bytes=500_000, workers=1)
    prepare.prepare(cfg, log=lambda *a, **k: None)
    return cfg["data_dir"]


def bench_loop(tiny=False):
    """train.py's tokens/s (its own log) against the same step timed alone: the loop's overhead
    (batches, sampler, logging, checkpoints). The mini scale: the 124M preset at T1024 on a GPU;
    on CPU the quickstart's tiny model at T128."""
    import torch

    import train
    cuda = torch.cuda.is_available()
    preset, T, B, steps = ("124m", 1024, 16, 60) if cuda else ("tiny", 128, 16, 60)
    if tiny:
        preset, T, B, steps = "tiny", 32, 4, 30
    tmp = tempfile.mkdtemp(prefix="scalex-loop-")
    tokens = steps * B * T
    d = _synthetic_data(os.path.join(tmp, "text"), 10 * tokens + 400_000)
    conf = os.path.join(tmp, "loop.py")
    with open(conf, "w") as f:
        f.write(f"data_dir = {d!r}\nout_dir = {os.path.join(tmp, 'runs')!r}\nrun_name = 'loop'\nmodel = {preset!r}\n"
                f"block_size = {T}\nbatch_size = {B}\nbudget = {{'en': {tokens + T + 1}}}\n"
                f"stages = [{{'lr': 'cosine', 'tokens': {{'en': {tokens}}}}}]\nlog_interval = 10\nckpt_interval = 10000\n"
                f"eval_tokens = 2000\ncompile = {cuda}\n")
    r = subprocess.run([sys.executable, os.path.abspath(train.__file__), conf], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    with open(os.path.join(tmp, "runs", "loop", "metrics.jsonl")) as f:
        rows = [json.loads(ln) for ln in f if '"tokens_per_s"' in ln]
    loop_tps = statistics.median(x["tokens_per_s"] for x in rows[2:])  # after compile and warm-up
    padded = json.load(open(os.path.join(d, "manifest.json")))["tokenizer"]["n_vocab"]
    padded = 64 * math.ceil(padded / 64)
    step = _step_fn(preset, padded, T, B, "auto", "cuda" if cuda else "cpu", compile_=cuda)
    step_tps = B * T / _timeit(step, 10, cuda)
    row = {**_versions(), "what": "loop", "shape": f"{preset} B{B} T{T} V{padded}", "loop_tok_s": loop_tps, "step_tok_s": step_tps,
           "overhead": 1 - loop_tps / step_tps}
    return row, [f"{'loop':<11}{row['shape']:<24}{loop_tps:>14,.0f} tok/s{'step alone ' + format(step_tps, ',.0f') + ' tok/s':>44}"
                 f"{row['overhead']:>10.1%} overhead"]


# ============================================================================= checkpoints
def bench_ckpt(preset="small", vocab=50304, T=128, B=16, steps=30, every=10):
    """What checkpoints cost a CPU training loop: the old synchronous save (torch.save, fsync)
    against train.py's background writer, as wall time of `steps` steps with a checkpoint
    every `every` steps against none."""
    import torch

    from scalex import rundir
    from model import build_model
    torch.manual_seed(0)
    m = build_model(preset, vocab, T)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    x = torch.randint(0, vocab, (B, T + 1))

    def step():
        m(x[:, :-1], x[:, 1:]).mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    step()
    tmp = tempfile.mkdtemp(prefix="scalex-ckpt-")
    path = os.path.join(tmp, "ckpt.pt")
    state = lambda: dict(model=m.state_dict(), optim=opt.state_dict(), step=0)
    t0 = time.perf_counter()
    rundir.save_checkpoint(path, state())
    sync_s = time.perf_counter() - t0
    writer = rundir.CheckpointWriter()
    t0 = time.perf_counter()
    writer.save(path, state())
    blocking_s = time.perf_counter() - t0
    writer.wait()
    walls = {}
    for mode in ("none", "sync", "background"):
        t0 = time.perf_counter()
        for i in range(1, steps + 1):
            step()
            if i % every == 0 and mode == "sync":
                rundir.save_checkpoint(path, state())
            elif i % every == 0 and mode == "background":
                writer.save(path, state())
        writer.wait()
        walls[mode] = time.perf_counter() - t0
    step_s = walls["none"] / steps
    n_ck = steps // every
    per_ck = {k: (walls[k] - walls["none"]) / n_ck for k in ("sync", "background")}
    res = {**_versions(), "params": sum(p.numel() for p in m.parameters()), "ckpt_mib": os.path.getsize(path) / 2**20,
           "step_s": step_s, "save_sync_s": sync_s, "save_blocking_s": blocking_s, "walls_s": walls, "cost_per_ckpt_s": per_ck,
           "setup": f"{preset} vocab {vocab} B{B} T{T}, {steps} steps, a checkpoint every {every}"}
    lines = [f"checkpoint of {res['params'] / 1e6:.1f}M parameters + AdamW ({res['ckpt_mib']:.0f} MiB) on {res['device']}: "
             f"synchronous save {sync_s:.2f} s, background writer blocks the step {blocking_s:.3f} s; step {step_s:.2f} s",
             f"  {steps} steps, a checkpoint every {every}: none {walls['none']:.1f} s, synchronous {walls['sync']:.1f} s "
             f"(+{per_ck['sync']:.2f} s each), background {walls['background']:.1f} s (+{per_ck['background']:.2f} s each)"]
    for interval in (every, 50, 100, 200):
        lines.append(f"  at ckpt_interval {interval}: synchronous {per_ck['sync'] / (interval * step_s):.1%} of wall, "
                     f"background {max(0.0, per_ck['background']) / (interval * step_s):.1%}")
    return res, lines


# ============================================================================= data preparation
def _tree_rss(pid):
    """Resident bytes of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("VmRSS:"))
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total


def bench_data(over):
    """Tokenisation MB/s per core (English, Chinese) of our parallel path against a
    single-process tiktoken loop, and the peak memory of preparing `--gb` GB of text."""
    import shutil
    import threading

    import data
    from scalex import prepare
    from scalex.configurator import ConfigError
    from scalex.sources import iter_records, resolve_source
    from scalex.tokenizer import build_tokenizer, load_tokenizer
    src = over.get("local_dir")
    if not src:
        raise ConfigError("local_dir: the benchmark needs real text: --local_dir=DIR with DIR/en.* and DIR/zh.*")
    mb, gb, cores = float(over.get("mb", 64)), float(over.get("gb", 1)), os.cpu_count() or 1
    tmp = tempfile.mkdtemp(prefix="scalex-bench-")
    cfg = dict(prepare.DEFAULTS, data_dir=tmp, local_dir=src, vocab_size=int(over.get("vocab_size", 16384)), languages={"en": "", "zh": ""})
    sources = {lang: resolve_source(lang, cfg) for lang in ("en", "zh")}
    samples = {}
    for lang in ("en", "zh"):
        samples[lang], n = [], 0
        for t in iter_records(*sources[lang][::2]):
            if t:
                samples[lang].append(t)
                n += len(t.encode())
                if n >= mb * 1e6:
                    break
    build_tokenizer(cfg, {k: v[:2000] for k, v in samples.items()}, tmp)
    tok = load_tokenizer(tmp)
    res = {"date": time.strftime("%Y-%m-%d"), "cores": cores, "vocab": tok.n_vocab, "mb_per_language": mb, "languages": {}}
    for lang, docs in samples.items():
        nbytes = sum(len(t.encode()) for t in docs)
        batches = list(prepare._batches((0, i, t) for i, t in enumerate(docs)))
        t0 = time.perf_counter()
        for b in batches:
            tok.enc.encode_ordinary_batch([t for _, t in b], num_threads=1)
        base = nbytes / 1e6 / (time.perf_counter() - t0)
        row = {"tiktoken_1_process_MBps": base}
        for w in sorted({1, cores}):
            t0 = time.perf_counter()
            for _ in prepare._tokenize_ordered(iter(batches), lang, w, tmp, 2 * w, {"peak_in_flight": 0}):
                pass
            row[f"ours_{w}_workers_MBps"] = nbytes / 1e6 / (time.perf_counter() - t0)
        row["efficiency_vs_linear"] = row[f"ours_{cores}_workers_MBps"] / (cores * base)
        res["languages"][lang] = row
    # peak memory while preparing `gb` GB of English: the corpus repeated into one file
    big = os.path.join(tmp, "big")
    os.makedirs(big)
    written = 0
    with open(os.path.join(big, "en.jsonl"), "w") as f, open(os.path.join(big, "zh.jsonl"), "w") as g:
        g.writelines(json.dumps({"text": t}) + "\n" for t in samples["zh"][:200])
        while written < gb * 1e9:
            for t in samples["en"]:
                f.write(json.dumps({"text": t}) + "\n")
                written += len(t.encode())
    tpb = sum(len(x) for x in tok.enc.encode_ordinary_batch(samples["en"][:500])) / sum(len(t.encode()) for t in samples["en"][:500])
    conf = os.path.join(tmp, "big.py")
    with open(conf, "w") as f:
        f.write(f"data_dir = {os.path.join(tmp, 'prep')!r}\nlocal_dir = {big!r}\nvocab_size = {cfg['vocab_size']}\n"
                f"max_tokens = {{'en': {int(0.9 * written * tpb)}, 'zh': 10_000}}\nval_tokens = 10_000\nshard_tokens = 50_000_000\n")
    t0, peak = time.time(), [0]
    p = subprocess.Popen([sys.executable, os.path.abspath(data.__file__), "prepare", conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def watch():
        while p.poll() is None:
            peak[0] = max(peak[0], _tree_rss(p.pid))
            time.sleep(0.1)
    w = threading.Thread(target=watch)
    w.start()
    _, err = p.communicate()
    w.join()
    if p.returncode:
        raise RuntimeError(err.decode()[-2000:])
    res["prepare"] = {"text_gb": written / 1e9, "wall_s": time.time() - t0, "peak_rss_mib": peak[0] / 2**20,
                      "MBps": written / 1e6 / (time.time() - t0)}
    shutil.rmtree(tmp)
    lines = [f"tokenisation, vocab {tok.n_vocab:,}, {mb:.0f} MB per language, {cores} cores, {res['date']}",
             f"{'language':<10}{'tiktoken 1 proc':>16}" + "".join(f"{f'ours {w} workers':>16}" for w in sorted({1, cores})) + f"{'vs linear':>11}"]
    for lang, r in res["languages"].items():
        lines.append(f"{lang:<10}{r['tiktoken_1_process_MBps']:>11.1f} MB/s" + "".join(f"{r[f'ours_{w}_workers_MBps']:>11.1f} MB/s" for w in sorted({1, cores}))
                     + f"{r['efficiency_vs_linear']:>10.0%}")
    pr = res["prepare"]
    lines.append(f"prepare {pr['text_gb']:.2f} GB of English: {pr['wall_s']:.0f} s ({pr['MBps']:.1f} MB/s), peak memory {pr['peak_rss_mib']:,.0f} MiB (all processes)")
    return res, lines


# ============================================================================= CLI
def main(argv):
    from scalex.configurator import ConfigError, fail, parse_args
    pos, over = parse_args(argv)
    what = pos[0] if pos else "all"
    known = GPU_ONLY + ("loop", "hopper", "ckpt", "data")
    if what not in known or len(pos) > 1:
        print(f"error: bench: unknown benchmark {' '.join(pos)!r}; use one of {', '.join(known)} (python bench.py --help)", file=sys.stderr)
        return 2
    out = over.get("out") or os.environ.get("OUT")
    tiny, quick = bool(over.get("tiny")), bool(over.get("quick"))
    if what in GPU_ONLY and not (what in ("kernels", "first") and tiny and os.environ.get("TRITON_INTERPRET") == "1"):
        import torch
        if not torch.cuda.is_available():
            print(NO_GPU, file=sys.stderr)
            return 2
    if what == "hopper" and os.environ.get("TRITON_INTERPRET") == "1":
        print("error: bench: hopper compiles the kernels, which the interpreter cannot; run it without TRITON_INTERPRET=1", file=sys.stderr)
        return 2
    results, table, failed = {}, [], []

    def save(name, res):
        if out:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, f"bench-{name}.json"), "w") as f:
                json.dump(res, f, indent=1)

    def run(name, fn, *a, **kw):
        t0 = time.time()
        try:
            res, lines = fn(*a, **kw)
        except (ConfigError, KeyboardInterrupt):
            raise
        except Exception as e:  # noqa: BLE001 - one benchmark failing must not lose the others' results
            res, lines = {"error": f"{type(e).__name__}: {e}"}, [f"{name}: FAILED ({type(e).__name__}: {str(e)[:300]})"]
            failed.append(name)
        results[name] = res
        table.extend(lines)
        print("\n".join(lines), flush=True)
        print(f"({name}: {time.time() - t0:.0f} s)", flush=True)
        save(name, res)
    try:
        if what == "first":
            from scalex.firstcall import bench_first
            run("first", bench_first, sys.modules[__name__], tiny, out or ".")
        if what == "hopper" or (what == "all" and not quick):
            from scalex.hopper import bench_hopper
            run("hopper", bench_hopper)
        if what in ("kernels", "all"):
            run("kernels", bench_kernels, tiny, quick, save=lambda res: save("kernels", res))
        if what in ("step", "all"):
            run("step", bench_step, tiny, quick)
        if what == "loop" or (what == "all" and not quick):
            run("loop", bench_loop, tiny)
        if what == "ckpt":
            run("ckpt", bench_ckpt, over.get("preset", "small"), int(over.get("vocab", 50304)), int(over.get("T", 128)),
                int(over.get("B", 16)), int(over.get("steps", 30)), int(over.get("every", 10)))
        if what == "data":
            run("data", bench_data, over)
    except ConfigError as e:
        fail(e)
    if what == "all":  # the short table last
        print("\n== summary ==\n" + "\n".join(line for line in table if not line.startswith(("attn_", "ce_rows", "Hopper", "kernel "))))
    ok = results.get("kernels", {}).get("correct", True) and not failed
    return 0 if ok else 1


if __name__ == "__main__":
    if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
        print(__doc__.strip())
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
