"""
The Hopper compile table (`python bench.py hopper`): every kernel launch kernels.py makes on a
GPU at the benchmark shapes, compiled for sm_90a without a GPU, as the launch specialises it
(alignment, constants), with ptxas's registers and spills and the PTX's wgmma count. It checks
every launch config before any GPU time is spent.
"""
import os
import re
import subprocess
import tempfile

# The benchmark shapes: the reference measurements' (BENCHMARKS.md, last section)
ATTN_SHAPES = [(16, 12, 1024, 64), (8, 16, 2048, 128), (4, 32, 4096, 128)]  # (B, H, T, D)
CE_SHAPES = [(16384, 768, 50304), (16384, 768, 100352), (16384, 2048, 200064)]  # (N, C, V)
# bench.py's correctness shapes (B, H, Hkv, T, D): odd lengths, grouped-query heads at both
# head dims, one token (T=1 compiles as a constant), a length that is a multiple of 16
CHECK_SHAPES = [(2, 8, 8, 1000, 64), (1, 8, 2, 333, 64), (1, 16, 4, 777, 128), (2, 4, 4, 1, 64), (1, 12, 12, 1024, 64)]
# what training launches: the mini scale (B64 T512), the 124m step of bench.py (B16 T1024)
# and the paper's 1b (32 heads over 8 kv heads, T2048)
RUN_SHAPES = [(64, 8, 8, 512, 64), (16, 12, 12, 1024, 64), (16, 32, 8, 2048, 64)]
# every attention shape a GPU run of this code launches, as (B, H, Hkv, T, D)
LAUNCH_SHAPES = [(B, H, H, T, D) for B, H, T, D in ATTN_SHAPES] + CHECK_SHAPES + RUN_SHAPES
# bench.py's correctness shapes of the fused CE (N, C, V, dtype): an odd vocabulary, and fp32
CE_CHECKS = [(4096, 768, 50304, "bfloat16"), (1000, 2048, 100003, "bfloat16"), (1000, 768, 50304, "float32")]
CE_LAUNCHES = [(N, C, V, "bfloat16") for N, C, V in CE_SHAPES] + CE_CHECKS


def hopper_launches(attn_shapes=LAUNCH_SHAPES, ce_shapes=CE_LAUNCHES):
    """(kernel name, jit function, args, kwargs) of every launch the kernels make on a GPU
    at every launched shape, every autotune candidate included: kernels.py's own launch
    code runs on meta tensors with each jit function swapped for a recorder, so the compile
    sees the arguments a launch really passes (strides, lengths, a REP of 1)."""
    import torch

    import kernels
    names = {"_flash_fwd": "attn_fwd", "_flash_bwd_delta": "attn_delta", "_flash_bwd": "attn_bwd", "_flash_bwd_dq": "attn_dq",
             "_ce_rows": "ce_rows"}
    out, saved = [], {n: getattr(kernels, n) for n in (*names, "_launch")}

    class Recorder:  # stands in for a jit function: kernel[grid](*args, **kwargs) records, runs nothing
        def __init__(self, name):
            self.name = name

        def __getitem__(self, grid):
            return self.record

        def record(self, *a, **kw):  # _flash_bwd without FUSE_DQ is the two-kernel backward's dK/dV
            name = "attn_dkdv" if kw.get("FUSE_DQ") is False else names[self.name]
            out.append((name, saved[self.name], a, kw, shape))
    try:
        for n in names:
            setattr(kernels, n, Recorder(n))
        kernels._launch = lambda kernel, key, D, launch: [launch(c) for c in kernels.attn_candidates(kernel, D)]
        meta = dict(device="meta", dtype=torch.bfloat16)
        for B, H, Hkv, T, D in attn_shapes:
            shape = f"B{B} H{H} Hkv{Hkv} T{T} D{D}"
            q, k = torch.empty(B, H, T, D, **meta), torch.empty(B, Hkv, T, D, **meta)
            o, lse = kernels.flash_attn_fwd(q, k, k)
            kernels.flash_attn_bwd(q, q, k, k, o, torch.empty(B, H, T, device="meta"))
        for N, C, V, dt in ce_shapes:
            shape, dt = f"N{N} C{C} V{V} {dt}", getattr(torch, dt)
            rows, f32 = kernels.ce_chunk_rows(N, C, V, dt.itemsize), dict(device="meta", dtype=torch.float32)
            for grad in (False, True):
                kernels._ce_launch(torch.empty(rows, V, device="meta", dtype=dt), torch.empty(rows, device="meta", dtype=torch.long),
                                   torch.empty(rows, **f32), torch.empty(rows, **f32), -100, grad)
    finally:
        for n, f in saved.items():
            setattr(kernels, n, f)
    unique = {}  # one compile per distinct specialisation, with the shapes that launch it
    for n, fn, a, kw, shape in out:
        key = (n, str(hopper_spec(fn, a, kw)[:3]), kw.get("num_warps"), kw.get("num_stages"))
        unique.setdefault(key, (n, fn, a, kw, []))[4].append(shape)
    return [(n, fn, a, kw, sorted(set(shapes), key=shapes.index)) for n, fn, a, kw, shapes in unique.values()]


def hopper_spec(fn, args, kwargs):
    """signature, constexprs, attrs (alignment) and options, as triton's own launcher derives
    them from these arguments, for an sm_90 target."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import make_backend
    from triton.runtime.jit import create_function_from_signature
    backend = make_backend(GPUTarget("cuda", 90, 32))
    bound, spec, options = create_function_from_signature(fn.signature, fn.params, backend)(*args, **kwargs)
    options, signature, constexprs, attrs = fn._pack_args(backend, kwargs, bound, spec, options)
    return signature, constexprs, attrs, {"num_warps": kwargs.get("num_warps", 4), "num_stages": kwargs.get("num_stages", 3)}


def hopper_compile(fn, args, kwargs):
    """Compile one launch for sm_90 without a GPU; ptxas of the triton wheel reports registers and spills."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    signature, constexprs, attrs, options = hopper_spec(fn, args, kwargs)
    k = triton.compile(ASTSource(fn, signature, constexprs, attrs), target=GPUTarget("cuda", 90, 32), options=options)
    ptx = k.asm["ptx"]
    ptxas = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")
    with tempfile.NamedTemporaryFile("w", suffix=".ptx") as f:
        f.write(ptx)
        f.flush()
        r = subprocess.run([ptxas, "-v", "--gpu-name=sm_90a", f.name, "-o", os.devnull], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"ptxas failed: {r.stderr[-500:]}")
    return {"registers": int(re.search(r"Used (\d+) registers", r.stderr).group(1)), "loop_instr": loop_instructions(ptx),
            "spill_bytes": sum(int(x) for x in re.findall(r"(\d+) bytes spill (?:stores|loads)", r.stderr)),
            "wgmma": len(re.findall(r"wgmma\.mma_async", ptx)), "mma_sync": len(re.findall(r"\bmma\.sync", ptx))}


def loop_instructions(ptx):
    """PTX instructions of the steady-state loop: of the loops (a branch back to a label above
    it) that hold a wgmma, the shortest, i.e. the off-diagonal blocks without a mask; 0 if none."""
    lines = ptx.splitlines()
    labels = {m.group(1): i for i, line in enumerate(lines) if (m := re.match(r"^(\$L__\w+):", line))}
    sizes = []
    for j, line in enumerate(lines):
        m = re.search(r"\bbra(?:\.uni)?\s+(\$L__\w+);", line)
        if m and labels.get(m.group(1), j) < j:
            body = [x.strip() for x in lines[labels[m.group(1)] + 1:j + 1]]
            body = [x for x in body if x and not x.startswith(("//", ".", "$", "{", "}"))]
            if any("wgmma.mma_async" in x for x in body):
                sizes.append(len(body))
    return min(sizes, default=0)


# matmuls per loop iteration, each 2 x rows x cols x D FLOPs: forward S = QK^T and PV; the
# fused backward S, dV, dP, dK and dQ; the two-kernel one's dK/dV S, dV, dP, dK and dQ S, dP, dQ
LOOP_MATMULS = {"attn_fwd": 2, "attn_bwd": 5, "attn_dkdv": 4, "attn_dq": 3}
_LAUNCHES = []  # what the compile workers read (inherited by fork)


def _compile_one(i):
    name, fn, a, kw, shapes = _LAUNCHES[i]
    sig, consts, _, opt = hopper_spec(fn, a, kw)
    cfg = " ".join(f"{k}={v}" for k, v in kw.items() if k not in ("UPCAST", "FUSE_DQ", "num_warps", "num_stages"))
    const = " ".join(f"{n}={consts[(i,)]}" for i, n in enumerate(sig) if sig[n] == "constexpr" and n not in kw)
    dtype = next(t for t in sig.values() if t.startswith("*"))[1:]  # the first pointer's: the input dtype
    row = {"kernel": name, "dtype": dtype, "config": f"{cfg} warps={opt['num_warps']} stages={opt['num_stages']}"
           + (f" ({const})" if const else ""), "shapes": shapes, **hopper_compile(fn, a, kw)}
    if name in LOOP_MATMULS:  # warp instructions of the loop per 1,000 matmul FLOPs it does
        flops = LOOP_MATMULS[name] * 2 * kw["BLOCK_M"] * kw["BLOCK_N"] * kw["D"]
        row["instr_per_kflop"] = round(row["loop_instr"] * opt["num_warps"] * 1000 / flops, 3)
    return row


def bench_hopper():
    """The table, compiled on every core (forked workers: each compile is independent)."""
    import multiprocessing

    import triton
    _LAUNCHES[:] = hopper_launches()
    with multiprocessing.get_context("fork").Pool(min(len(_LAUNCHES), os.cpu_count() or 1)) as pool:
        rows = pool.map(_compile_one, range(len(_LAUNCHES)))
    lines = [f"Hopper (sm_90a) compile, triton {triton.__version__}: every launch at every shape bench.py and "
             "training launch, as specialised at run time (alignment, constants)",
             f"{'kernel':<12}{'dtype':<6}{'config':<64}{'regs':>5}{'spill B':>8}{'wgmma':>7}{'mma.sync':>9}{'instr/kFLOP':>12}"]
    lines += [f"{r['kernel']:<12}{r['dtype']:<6}{r['config']:<64}{r['registers']:>5}{r['spill_bytes']:>8}{r['wgmma']:>7}"
              f"{r['mma_sync']:>9}{r.get('instr_per_kflop', ''):>12}" for r in rows]
    attn = [r for r in rows if r["kernel"] in LOOP_MATMULS]
    spills = [r for r in rows if r["spill_bytes"]]
    most = {}
    for r in rows:
        most[r["kernel"]] = max(most.get(r["kernel"], 0), r["registers"])
    lines.append(f"hopper: {len(rows)} launches compile for sm_90a; spills: {len(spills) or 'none'}; attention matmuls: "
                 + ("all wgmma" if all(r["wgmma"] and not r["mma_sync"] for r in attn) else "NOT all wgmma")
                 + "; most registers: " + ", ".join(f"{k} {v}" for k, v in most.items()))
    return {"rows": rows, "triton": triton.__version__, "max_registers": most}, lines
