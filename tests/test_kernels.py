"""kernels.py: the torch references against naive float64 math; the Triton kernels (in the
interpreter on CPU) against float64 references, forward and every gradient, on awkward
shapes, with fresh random inputs and NaN-poisoned outputs; the backend switch."""
import math
import os

import pytest
import torch

import kernels
from scalex import hopper

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
needs_triton = pytest.mark.skipif(kernels.triton is None or not (kernels.INTERPRET or torch.cuda.is_available()),
                                  reason="needs triton (requirements-gpu.txt) on a GPU or TRITON_INTERPRET=1")


def rel(a, b):
    """||a - b|| / ||b||; the floor of 1 keeps an exactly-zero reference (dQ of a one-token
    sequence) from turning rounding noise into an infinite relative error."""
    return ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1.0)).item()


@pytest.fixture
def triton_backend(monkeypatch):
    monkeypatch.setattr(kernels, "_POISON", True)
    kernels.set_backend("triton")
    yield
    kernels.set_backend("auto")


def naive_attention(q, k, v):
    T = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return s.softmax(-1) @ v


@pytest.mark.parametrize("B,H,Hkv,T,D", [(2, 4, 4, 37, 16), (1, 6, 2, 5, 8), (3, 2, 1, 1, 32)])
def test_attention_reference(B, H, Hkv, T, D):
    q = torch.randn(B, H, T, D, dtype=torch.float64)
    k, v = torch.randn(B, Hkv, T, D, dtype=torch.float64), torch.randn(B, Hkv, T, D, dtype=torch.float64)
    out = kernels.attention(q, k, v)
    rep = H // Hkv
    ref = naive_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1))
    assert rel(out, ref) < 1e-10


def test_linear_cross_entropy_reference():
    N, C, V = 23, 16, 101
    h = torch.randn(N, C, dtype=torch.float64, requires_grad=True)
    w = torch.randn(V, C, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, V, (N,))
    t[[3, 7]] = -100
    losses = kernels.linear_cross_entropy(h, w, t)
    logits = h @ w.t()
    ref = -(logits.log_softmax(-1).gather(1, t.clamp(min=0)[:, None])[:, 0])
    ref = torch.where(t == -100, torch.zeros_like(ref), ref)
    assert losses.shape == (N,) and torch.allclose(losses.double(), ref)
    g1 = torch.autograd.grad(losses.sum(), (h, w))
    g2 = torch.autograd.grad(ref.sum(), (h, w))
    assert all(torch.allclose(a, b) for a, b in zip(g1, g2))


# (B, H, Hkv, T, D): odd lengths that no block divides, one-token sequences, grouped-query
ATTN_SHAPES = [(1, 2, 2, 37, 16), (2, 4, 2, 20, 32), (1, 3, 1, 1, 16), (1, 2, 2, 64, 64)]


@needs_triton
@pytest.mark.parametrize("shape", ATTN_SHAPES, ids=str)
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float16, 2e-3)], ids=["fp32", "fp16"])
@pytest.mark.parametrize("backward", ["fused", "two_kernels"])
def test_flash_attention_matches_float64(triton_backend, monkeypatch, shape, dtype, tol, backward):
    """Both backwards at every shape: dQ by atomics in the dK/dV pass (what D <= 64 takes) and
    the dK/dV kernel then the dQ kernel (what D = 128 takes)."""
    monkeypatch.setattr(kernels, "FUSED_DQ_MAX_D", 256 if backward == "fused" else 0)
    B, H, Hkv, T, D = shape
    q = torch.randn(B, H, T, D, dtype=dtype, requires_grad=True)
    k = torch.randn(B, Hkv, T, D, dtype=dtype, requires_grad=True)
    v = torch.randn(B, Hkv, T, D, dtype=dtype, requires_grad=True)
    out = kernels.attention(q, k, v)
    do = torch.randn_like(out)
    out.backward(do)
    ref_in = [x.detach().double().requires_grad_() for x in (q, k, v)]
    ref = kernels.attention_reference(*ref_in)
    ref.backward(do.double())
    assert not out.isnan().any() and rel(out, ref) < tol
    for name, got, want in zip("qkv", (q.grad, k.grad, v.grad), (x.grad for x in ref_in)):
        assert not got.isnan().any() and rel(got, want) < tol, name


@needs_triton
def test_flash_attention_takes_strided_inputs(triton_backend):
    """The model hands over transposed views (last dim contiguous): no copy needed, same result."""
    x = torch.randn(2, 19, 3, 3, 16)  # (B, T, 3, H, D) as a fused qkv projection lays it out
    q, k, v = (x[:, :, i].transpose(1, 2) for i in range(3))
    assert not q.is_contiguous()
    assert rel(kernels.attention(q, k, v), kernels.attention_reference(q.double(), k.double(), v.double())) < 1e-4


CE_SHAPES = [(37, 16, 101), (64, 32, 300), (5, 8, 1000), (1, 16, 17)]  # V never a multiple of the block


@needs_triton
@pytest.mark.parametrize("N,C,V", CE_SHAPES)
@pytest.mark.parametrize("upstream", ["mean", "per_token"])
@pytest.mark.parametrize("chunk_rows", [8, None], ids=["chunks_of_8", "one_chunk"])
def test_fused_linear_cross_entropy_matches_float64(triton_backend, monkeypatch, N, C, V, upstream, chunk_rows):
    # chunks of 8 rows: several, a short last one; or all N rows in one chunk
    monkeypatch.setattr(kernels, "ce_chunk_rows", lambda N, C, V, itemsize: min(N, chunk_rows or N))
    h = torch.randn(N, C, requires_grad=True)
    w = torch.randn(V, C, requires_grad=True)
    t = torch.randint(0, V, (N,))
    t[torch.rand(N) < 0.2] = -100
    g = torch.full((N,), 1.0 / N) if upstream == "mean" else torch.rand(N)
    losses = kernels.linear_cross_entropy(h, w, t)
    losses.backward(g)
    hd, wd = h.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    ref = kernels.linear_cross_entropy_reference(hd, wd, t)
    ref.backward(g.double())
    assert losses.shape == (N,) and losses.dtype == torch.float32
    assert not losses.isnan().any() and rel(losses, ref) < 1e-5
    assert (losses[t == -100] == 0).all()
    assert rel(h.grad, hd.grad) < 1e-4 and rel(w.grad, wd.grad) < 1e-4


@needs_triton
def test_fused_linear_cross_entropy_without_grad(triton_backend):
    h, w, t = torch.randn(9, 8), torch.randn(50, 8), torch.randint(0, 50, (9,))
    with torch.no_grad():
        assert rel(kernels.linear_cross_entropy(h, w, t), kernels.linear_cross_entropy_reference(h.double(), w.double(), t)) < 1e-5


@needs_triton
def test_training_step_same_with_triton_and_torch():
    """A tiny model's loss and every gradient agree between the two backends."""
    from model import Model, ModelConfig
    grads = {}
    for backend in ("torch", "triton"):
        kernels.set_backend(backend)
        torch.manual_seed(0)
        m = Model(ModelConfig(vocab_size=67, n_layer=2, n_head=4, n_kv_head=2, d_model=64, block_size=24))
        x = torch.randint(0, 67, (2, 24))
        y = torch.randint(0, 67, (2, 24))
        loss = m(x, y).mean()
        loss.backward()
        grads[backend] = (loss.item(), {n: p.grad.clone() for n, p in m.named_parameters()})
    kernels.set_backend("auto")
    assert abs(grads["torch"][0] - grads["triton"][0]) < 1e-5
    for n, g in grads["torch"][1].items():
        assert rel(grads["triton"][1][n], g) < 1e-4, n


@needs_triton
def test_autocast_inputs_reach_the_kernels_in_one_dtype():
    """Under autocast the model hands fp32 master weights next to bf16 activations: the
    kernels cast once and still give the reference's loss and gradients."""
    from model import Model, ModelConfig
    out = {}
    for backend in ("torch", "triton"):
        kernels.set_backend(backend)
        torch.manual_seed(0)
        m = Model(ModelConfig(vocab_size=67, n_layer=1, n_head=2, n_kv_head=2, d_model=32, block_size=16))
        x, y = torch.randint(0, 67, (2, 16)), torch.randint(0, 67, (2, 16))
        with torch.autocast("cpu", dtype=torch.float16):
            loss = m(x, y).mean()
        loss.backward()
        out[backend] = (loss.item(), m.head.weight.grad.clone(), m.embed.weight.grad.clone())
    kernels.set_backend("auto")
    assert m.head.weight.grad.dtype == torch.float32
    assert abs(out["torch"][0] - out["triton"][0]) < 1e-2
    assert rel(out["triton"][1], out["torch"][1]) < 2e-2 and rel(out["triton"][2], out["torch"][2]) < 2e-2


def test_backend_switch():
    kernels.set_backend("torch")
    assert not kernels._use_triton(torch.zeros(1))
    kernels.set_backend("auto")
    # auto takes the torch path, on CUDA too, until a GPU run shows ours correct and faster
    assert not kernels._use_triton(torch.zeros(1)) and not kernels._use_triton(torch.zeros(1, device="meta"))
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        kernels.set_backend("cuda")


def test_ce_chunks_are_sized_by_a_memory_budget():
    """Thousands of rows per chunk at a 50k vocabulary in bf16, fewer as V grows, never past N."""
    assert kernels.ce_chunk_rows(16384, 768, 50304, 2) == 384 and kernels.ce_chunk_rows(16384, 2048, 200064, 2) == 640
    assert kernels.ce_chunk_rows(100, 768, 50304, 2) == 100 and kernels.ce_chunk_rows(10**6, 768, 10**9, 4) == 16


@needs_triton
def test_backward_twice_with_retain_graph(triton_backend):
    """The saved gradients are never scaled in place: a second backward adds the same again."""
    h = torch.randn(21, 8, requires_grad=True)
    w = torch.randn(40, 8, requires_grad=True)
    t = torch.randint(0, 40, (21,))
    loss = kernels.linear_cross_entropy(h, w, t).mean()
    loss.backward(retain_graph=True)
    g1 = (h.grad.clone(), w.grad.clone())
    loss.backward()
    assert torch.allclose(h.grad, 2 * g1[0]) and torch.allclose(w.grad, 2 * g1[1])
    q, k, v = (torch.randn(1, 2, 19, 16, requires_grad=True) for _ in range(3))
    o = kernels.attention(q, k, v).sum()
    o.backward(retain_graph=True)
    gq = q.grad.clone()
    o.backward()
    assert torch.allclose(q.grad, 2 * gq)


@pytest.mark.parametrize("backend", ["torch", pytest.param("triton", marks=needs_triton)])
def test_compiles_whole_without_graph_breaks(backend):
    """Both kernels are torch.library custom ops with fake implementations and autograd:
    Dynamo sees one graph (plain and under autocast), and torch.compile(fullgraph=True) gives
    the eager loss and gradients: through Inductor (C++ code around our ops, which run in the
    interpreter on CPU) for the Triton backend, through AOTAutograd alone for torch's. What a
    GPU adds (Inductor's Triton code, CUDA graphs) is checked by `make bench` there."""
    from model import Model, ModelConfig
    kernels.set_backend(backend)
    try:
        torch.manual_seed(0)
        m = Model(ModelConfig(vocab_size=67, n_layer=2, n_head=4, n_kv_head=2, d_model=64, block_size=16))
        x, y = torch.randint(0, 67, (2, 16)), torch.randint(0, 67, (2, 16))
        torch._dynamo.reset()
        ex = torch._dynamo.explain(m)(x, y)
        assert (ex.graph_count, ex.graph_break_count) == (1, 0), ex.break_reasons
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ex = torch._dynamo.explain(m)(x, y)
        assert (ex.graph_count, ex.graph_break_count) == (1, 0), ex.break_reasons
        ref = m(x, y).mean()
        ref.backward()
        want = {n: p.grad.clone() for n, p in m.named_parameters()}
        m.zero_grad()
        import shutil
        compiler = "inductor" if backend == "triton" and (shutil.which("g++") or shutil.which("c++")) else "aot_eager"
        loss = torch.compile(m, fullgraph=True, backend=compiler)(x, y).mean()
        loss.backward()
        assert torch.allclose(loss, ref, atol=1e-6) and all(torch.allclose(p.grad, want[n], atol=1e-5) for n, p in m.named_parameters())
    finally:
        torch._dynamo.reset()
        kernels.set_backend("auto")


def test_the_compile_table_shapes_are_the_launched_ones():
    """hopper.LAUNCH_SHAPES holds what a GPU run launches: bench.py's timing and correctness
    shapes (grouped-query at an odd length at both head dims) and the attention of the mini
    scale, bench.py's 124m step and the paper's 1b, as (B, H, Hkv, T, D)."""
    import bench
    from model import PRESETS
    from scalex import configurator
    import train
    assert bench.CHECK_SHAPES is hopper.CHECK_SHAPES and bench.ATTN_SHAPES is hopper.ATTN_SHAPES
    assert {D for B, H, K, T, D in hopper.CHECK_SHAPES if K < H and T % 2} == {64, 128}
    runs = []
    for scale in ("mini", "paper"):
        cfg = configurator.load_config(os.path.join(os.path.dirname(__file__), "..", "config", scale, "common.py"), {}, train.DEFAULTS)
        p = PRESETS[cfg["model"]]
        runs.append((cfg["batch_size"], p["n_head"], p["n_kv_head"], cfg["block_size"], p["d_model"] // p["n_head"]))
    p = PRESETS["124m"]
    runs.insert(1, (16, p["n_head"], p["n_kv_head"], 1024, p["d_model"] // p["n_head"]))  # bench.py step and loop
    assert hopper.RUN_SHAPES == runs
    assert set(hopper.LAUNCH_SHAPES) >= set(hopper.CHECK_SHAPES) | set(runs)


def _hopper_toolchain():
    try:
        import triton
        return os.path.isfile(os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas"))
    except ImportError:
        return False


@pytest.mark.skipif(not _hopper_toolchain(), reason="needs triton with its NVIDIA backend (ptxas)")
@pytest.mark.parametrize("triton_path", ["pinned", os.environ.get("HOPPER_OTHER_TRITON")], ids=["pinned", "other"])
def test_every_launch_compiles_for_hopper_without_spills(tmp_path, triton_path):
    """Every launch the kernels make at the benchmark shapes (bf16, head dims 64 and 128, every
    autotune candidate), specialised as at run time, compiles for sm_90a with no register
    spill, and every attention matmul is a wgmma (none falls back to mma.sync). No GPU needed:
    triton.compile for a target + the wheel's ptxas. HOPPER_OTHER_TRITON=DIR (a folder holding
    another triton package, e.g. a GPU box's version) runs the same check under it."""
    import json
    import subprocess
    import sys
    from conftest import ROOT
    if triton_path is None:
        pytest.skip("HOPPER_OTHER_TRITON not set")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}  # compiled, not interpreted
    if triton_path != "pinned":
        env["PYTHONPATH"] = os.pathsep.join([triton_path, env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench.py"), "hopper", f"--out={tmp_path}"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads((tmp_path / "bench-hopper.json").read_text())["rows"]
    kinds = {(row["kernel"], row["config"].split()[0]) for row in rows}  # fused backward at D=64, two kernels at 128
    assert kinds == {(f"attn_{k}", f"D={d}") for k in ("fwd", "delta") for d in (64, 128)} | {
        ("attn_bwd", "D=64"), ("attn_dkdv", "D=128"), ("attn_dq", "D=128"), ("ce_rows", "BLOCK_V=1024")}
    launched = {s for row in rows for s in row["shapes"]}  # exactly the shapes bench.py and training launch
    assert launched == {f"B{B} H{H} Hkv{K} T{T} D{D}" for B, H, K, T, D in hopper.LAUNCH_SHAPES} | {
        f"N{N} C{C} V{V} {dt}" for N, C, V, dt in hopper.CE_LAUNCHES}
    configs = {(row["kernel"], row["config"]) for row in rows}
    for kernel, table in kernels.ATTN_CONFIGS.items():  # every autotune candidate, with the REP=1 a launch passes
        for D, cands in table.items():
            for BM, BN, w, s in cands:
                assert (f"attn_{kernel}", f"D={D} BLOCK_M={BM} BLOCK_N={BN} warps={w} stages={s} (REP=1)") in configs, (kernel, D, BM, BN)
    for row in rows:
        assert row["spill_bytes"] == 0 and row["registers"] <= 255, row
        if row["kernel"] in hopper.LOOP_MATMULS:
            assert row["wgmma"] > 0 and row["mma_sync"] == 0 and row["instr_per_kflop"] > 0, row
        if row["kernel"] in ("attn_dkdv", "attn_dq") and "D=128" in row["config"]:  # headroom: a small change does not spill
            assert row["registers"] <= 240, row
    assert "spill B" in r.stdout and "wgmma" in r.stdout  # the table make bench prints
