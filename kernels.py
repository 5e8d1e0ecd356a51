"""
The two hot operations of the model, behind two functions model.py calls:

    attention(q, k, v)                          causal self-attention (grouped-query allowed)
    linear_cross_entropy(h, weight, targets)    per-token loss of the output layer

Each has a plain torch reference and a fused Triton version beside it:
- flash attention: forward with an online softmax that saves only the log-sum-exp; backward
  recomputes the probabilities block by block in a pass over key blocks that gives dK, dV
  and, up to head dim 64, adds each block's share of dQ into an fp32 buffer atomically (5
  matmuls a block pair instead of 7; dQ's rounding depends on the order the blocks land in,
  as in FlashAttention-2). At 128 that fused pass runs more instructions per FLOP than two
  kernels (BENCHMARKS.md), so a second kernel over query blocks gives dQ there. Under
  grouped-query attention each query head writes its share of dK/dV, summed after. Only
  diagonal blocks are masked; the key-block pass works on transposed scores, so its matmuls
  have the keys (or the head dim) as rows, enough for Hopper's wgmma;
- linear + cross-entropy: rows in chunks sized by a memory budget, so the N x V logits never
  exist at once; a Triton kernel turns each chunk's logits into losses and, in place, into
  their gradient; dW accumulates in the weight's dtype, one chunk of logits alive at a time.

Both are torch.library custom ops with fake (shape-only) implementations and autograd, so
torch.compile(model, fullgraph=True) traces through them without a graph break.

`set_backend` chooses: "auto" (the torch reference everywhere until a GPU run has shown the
Triton kernels correct and at least as fast: BENCHMARKS.md), "torch", or "triton" (forced; on
CPU it needs TRITON_INTERPRET=1, which the tests use). Benchmarks live in bench.py.
"""
import math
import os

import torch
import torch.nn.functional as F

try:
    import triton
    import triton.language as tl
except ImportError:  # torch reference only
    triton = None

BACKENDS = ("auto", "torch", "triton")
_backend = "auto"
# Under the interpreter (CPU) bf16 arithmetic is not emulated faithfully, so kernels upcast to
# fp32 right after each load there; on a GPU the tensor cores take bf16/fp16 as they are.
INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
_POISON = False  # tests set this: fresh outputs start as NaN, so an unwritten element shows
# Logits of one chunk of rows of the fused cross-entropy, in bytes: thousands of rows at a
# 50k vocabulary, so each chunk's matmuls are large and dW is read and written few times.
CE_CHUNK_BYTES = 256 << 20


def set_backend(name):
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"kernels: unknown backend '{name}'; use one of {', '.join(BACKENDS)}")
    if name == "triton" and triton is None:
        raise ValueError("kernels: backend 'triton' asked for, but triton does not import")
    _backend = name


def _use_triton(t, dtypes=(torch.float16, torch.bfloat16, torch.float32)):
    # "auto" stays on torch until a GPU measurement says ours is correct and faster (BENCHMARKS.md)
    return _backend == "triton" and triton is not None and (t.dtype in dtypes or not t.is_cuda)


def _empty(shape, dtype, device):
    out = torch.empty(shape, dtype=dtype, device=device)
    return out.fill_(float("nan")) if _POISON else out


def _autocast_dtype(x):
    """The dtype autocast would compute in here (x's own dtype when autocast is off)."""
    dev = x.device.type
    return torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else x.dtype


# ============================================================================= launch configs
# (rows, cols, num_warps, num_stages) per kernel and head dim: rows x cols is the tile of
# queries x keys one program works on. On a GPU the first call at a (T, D) times each
# candidate and keeps the fastest; the interpreter runs one. Every GPU candidate compiles for
# sm_90 without a register spill and with wgmma matmuls at every shape bench.py and training
# launch, under triton 3.6 and 3.7 (tests/test_kernels.py checks it; BENCHMARKS.md has the
# table); the D=128 backward ones stay at or under 240 registers, so a small change has room.
ATTN_CONFIGS = {
    "fwd": {64: [(128, 64, 4, 3), (128, 128, 8, 3), (64, 64, 4, 3)],
            128: [(128, 64, 8, 2), (128, 64, 8, 3), (64, 64, 4, 3)]},
    "bwd": {64: [(32, 128, 8, 2), (64, 128, 8, 2), (32, 64, 4, 2)]},
    "dkdv": {128: [(32, 64, 8, 2), (16, 128, 8, 2), (32, 64, 8, 1)]},
    "dq": {128: [(128, 32, 8, 2), (128, 64, 8, 2), (64, 32, 8, 2)]},
}
FUSED_DQ_MAX_D = 64  # "bwd" (dK, dV and dQ in one pass) up to this head dim; above, "dkdv" then "dq"
DELTA_BLOCK = 64  # rows per program of the small delta kernel (default warps and stages)
INTERPRET_CONFIG = (16, 16, 1, 1)
_tuned = {}


def attn_candidates(kernel, D):
    if INTERPRET:
        return [INTERPRET_CONFIG]
    table = ATTN_CONFIGS[kernel]
    return table[D] if D in table else [(32, 64, 4, 2) if kernel in ("bwd", "dkdv") else (64, 64, 4, 2)]


def tune_key(B, H, T, D):
    """What the fastest config depends on: the length, the head dim, and how many (batch, head)
    programs fill the card's SMs (a power-of-two bucket of B x H)."""
    return T, D, 1 << max(0, B * H - 1).bit_length()


def _launch(kernel, key, D, launch):
    """launch(cfg) runs one kernel at one config; the first call per key picks the fastest."""
    cands = attn_candidates(kernel, D)
    if len(cands) == 1:
        return launch(cands[0])
    if (kernel, key) not in _tuned:
        from triton.testing import do_bench
        times = [do_bench(lambda c=c: launch(c), warmup=5, rep=20) for c in cands]
        _tuned[(kernel, key)] = cands[times.index(min(times))]
    return launch(_tuned[(kernel, key)])


# ============================================================================= attention
def attention_reference(q, k, v):
    """q: (B, H, T, D); k, v: (B, Hkv, T, D) with H a multiple of Hkv (grouped-query)."""
    if k.shape[1] != q.shape[1]:
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def attention(q, k, v):
    # fp32 on a GPU stays on torch: tl.dot would round it to tf32
    if _use_triton(q, (torch.float16, torch.bfloat16)):
        dt = _autocast_dtype(q)  # under autocast: cast once here, autograd carries it back
        with torch.autocast(q.device.type, enabled=False):
            return torch.ops.scalex.flash_attn_fwd(q.to(dt), k.to(dt), v.to(dt))[0]
    return attention_reference(q, k, v)


LOG2E = 1.4426950408889634

if triton is not None:
    @triton.jit
    def _load_kv(k_ptr, v_ptr, cols, skt, offs_d, T, DIAG: tl.constexpr, UPCAST: tl.constexpr):
        """One block of keys and values (rows `cols`). Only a diagonal block can run past T, so
        only it pays for a mask."""
        if DIAG:
            k = tl.load(k_ptr + cols[:, None] * skt + offs_d[None, :], mask=cols[:, None] < T, other=0.0)
            v = tl.load(v_ptr + cols[:, None] * skt + offs_d[None, :], mask=cols[:, None] < T, other=0.0)
        else:
            k = tl.load(k_ptr + cols[:, None] * skt + offs_d[None, :])
            v = tl.load(v_ptr + cols[:, None] * skt + offs_d[None, :])
        if UPCAST:
            k, v = k.to(tl.float32), v.to(tl.float32)
        return k, v

    @triton.jit
    def _fwd_block(acc, l_i, m_i, q, k_ptr, v_ptr, skt, offs_m, offs_d, lo, hi, T, qk_scale,
                   BLOCK_N: tl.constexpr, DIAG: tl.constexpr, UPCAST: tl.constexpr):
        """Keys lo..hi against one block of queries. Off the diagonal every key is visible
        and in range: no mask at all."""
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + tl.arange(0, BLOCK_N)
            k, v = _load_kv(k_ptr, v_ptr, cols, skt, offs_d, T, DIAG, UPCAST)
            s = tl.dot(q, tl.trans(k)) * qk_scale  # base-2 logits
            if DIAG:  # a key past T is also past every real query
                s = tl.where(offs_m[:, None] >= cols[None, :], s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))
            alpha = tl.exp2(m_i - m_new)
            p = tl.exp2(s - m_new[:, None])
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
        return acc, l_i, m_i

    @triton.jit
    def _flash_fwd(Q, K, V, O, LSE,
                   sqb, sqh, sqt, skb, skh, skt, sob, soh, sot,
                   T, H, REP, qk_scale,
                   D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr):
        pid_m, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        hk = h // REP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, D)
        q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqt + offs_d[None, :], mask=offs_m[:, None] < T, other=0.0)
        if UPCAST:
            q = q.to(tl.float32)
        k_ptr = K + b * skb + hk * skh
        v_ptr = V + b * skb + hk * skh
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, D], tl.float32)
        diag = pid_m * BLOCK_M  # keys before it are all visible; from it to T, causal mask
        acc, l_i, m_i = _fwd_block(acc, l_i, m_i, q, k_ptr, v_ptr, skt, offs_m, offs_d, 0, diag, T, qk_scale,
                                   BLOCK_N, False, UPCAST)
        acc, l_i, m_i = _fwd_block(acc, l_i, m_i, q, k_ptr, v_ptr, skt, offs_m, offs_d, diag, tl.minimum(diag + BLOCK_M, T),
                                   T, qk_scale, BLOCK_N, True, UPCAST)
        acc = acc / l_i[:, None]
        row_ok = offs_m < T
        tl.store(O + b * sob + h * soh + offs_m[:, None] * sot + offs_d[None, :], acc.to(O.dtype.element_ty), mask=row_ok[:, None])
        tl.store(LSE + bh * T + offs_m, m_i + tl.log2(l_i), mask=row_ok)

    @triton.jit
    def _flash_bwd_delta(O, DO, DELTA, sob, soh, sot, sdb, sdh, sdt, T, H,
                         D: tl.constexpr, BLOCK_M: tl.constexpr):
        """delta_i = sum_d dO_id * O_id: the row term of the softmax gradient."""
        pid_m, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, D)
        mask = offs_m[:, None] < T
        o = tl.load(O + b * sob + h * soh + offs_m[:, None] * sot + offs_d[None, :], mask=mask, other=0.0).to(tl.float32)
        do = tl.load(DO + b * sdb + h * sdh + offs_m[:, None] * sdt + offs_d[None, :], mask=mask, other=0.0).to(tl.float32)
        tl.store(DELTA + bh * T + offs_m, tl.sum(o * do, 1), mask=offs_m < T)

    @triton.jit
    def _bwd_block(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr, sqt, sdt, offs_n, offs_d, lo, hi, T,
                   qk_scale, sm_scale, D: tl.constexpr, BLOCK_M: tl.constexpr, DIAG: tl.constexpr,
                   FUSE_DQ: tl.constexpr, UPCAST: tl.constexpr):
        """Queries lo..hi against one block of keys, on transposed scores (keys x queries):
        four matmuls have the keys as their rows, dQ's the head dim. Rows past T load as zeros
        and add nothing. With FUSE_DQ each block's share of dQ is added into the fp32 dq_ptr
        atomically."""
        for start_m in range(lo, hi, BLOCK_M):
            rows = start_m + tl.arange(0, BLOCK_M)
            row_ok = rows < T
            qT = tl.load(q_ptr + rows[None, :] * sqt + offs_d[:, None], mask=row_ok[None, :], other=0.0)
            do = tl.load(do_ptr + rows[:, None] * sdt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
            if UPCAST:
                qT, do = qT.to(tl.float32), do.to(tl.float32)
            lse = tl.load(lse_ptr + rows, mask=row_ok, other=0.0)
            delta = tl.load(delta_ptr + rows, mask=row_ok, other=0.0)
            pT = tl.exp2(tl.dot(k, qT) * qk_scale - lse[None, :])  # (N, M) probabilities
            if DIAG:
                pT = tl.where(rows[None, :] >= offs_n[:, None], pT, 0.0)
            dv += tl.dot(pT.to(do.dtype), do)
            dpT = tl.dot(v, tl.trans(do))
            dsT = (pT * (dpT - delta[None, :])).to(qT.dtype)
            dk += tl.dot(dsT, tl.trans(qT))
            if FUSE_DQ:  # these keys' share of the queries' dQ, transposed (D, M): D rows for a wgmma
                dqT = tl.dot(tl.trans(k), dsT) * sm_scale
                tl.atomic_add(dq_ptr + rows[None, :] * D + offs_d[:, None], dqT, mask=row_ok[None, :], sem="relaxed")
        return dk, dv

    @triton.jit
    def _flash_bwd(Q, K, V, DO, LSE, DELTA, DK, DV, DQ,
                   sqb, sqh, sqt, skb, skh, skt, sdb, sdh, sdt,
                   T, H, REP, qk_scale, sm_scale, D: tl.constexpr, BLOCK_M: tl.constexpr,
                   BLOCK_N: tl.constexpr, FUSE_DQ: tl.constexpr, UPCAST: tl.constexpr):
        """One program: BLOCK_N keys of one (batch, kv head) against every query at or after
        them (causal) of one query head. Under grouped-query attention each of the REP query
        heads that share the keys writes its own share, which the caller sums: a loop over
        those heads in here would keep dK, dV live across a second loop (more registers, a
        spill at some shapes), and the grid gains REP times the programs. DK, DV are
        contiguous (B, H, T, D); with FUSE_DQ, DQ too, in fp32, zeroed: every key block adds
        its share (without it DQ is not touched: _flash_bwd_dq writes it)."""
        pid_n, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        hk = h // REP
        offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, D)
        k, v = _load_kv(K + b * skb + hk * skh, V + b * skb + hk * skh, offs_n, skt, offs_d, T, True, UPCAST)
        dk = tl.zeros([BLOCK_N, D], tl.float32)
        dv = tl.zeros([BLOCK_N, D], tl.float32)
        diag = pid_n * BLOCK_N  # queries from here to diag + BLOCK_N see part of these keys
        q_ptr, do_ptr = Q + b * sqb + h * sqh, DO + b * sdb + h * sdh
        lse_ptr, delta_ptr, dq_ptr = LSE + bh * T, DELTA + bh * T, DQ + bh * T * D
        dk, dv = _bwd_block(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr, sqt, sdt, offs_n, offs_d,
                            diag, tl.minimum(diag + BLOCK_N, T), T, qk_scale, sm_scale, D, BLOCK_M, True, FUSE_DQ, UPCAST)
        dk, dv = _bwd_block(dk, dv, k, v, q_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr, sqt, sdt, offs_n, offs_d,
                            diag + BLOCK_N, T, T, qk_scale, sm_scale, D, BLOCK_M, False, FUSE_DQ, UPCAST)
        out = bh * T * D + offs_n[:, None] * D + offs_d[None, :]
        tl.store(DK + out, (dk * sm_scale).to(DK.dtype.element_ty), mask=offs_n[:, None] < T)
        tl.store(DV + out, dv.to(DV.dtype.element_ty), mask=offs_n[:, None] < T)

    @triton.jit
    def _dq_block(dq, q, do, lse, delta, k_ptr, v_ptr, skt, offs_m, offs_d, lo, hi, T, qk_scale,
                  BLOCK_N: tl.constexpr, DIAG: tl.constexpr, UPCAST: tl.constexpr):
        """Keys lo..hi against one block of queries: S and dP again, then dQ += dS K."""
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + tl.arange(0, BLOCK_N)
            k, v = _load_kv(k_ptr, v_ptr, cols, skt, offs_d, T, DIAG, UPCAST)
            p = tl.exp2(tl.dot(q, tl.trans(k)) * qk_scale - lse[:, None])
            if DIAG:
                p = tl.where(offs_m[:, None] >= cols[None, :], p, 0.0)
            ds = p * (tl.dot(do, tl.trans(v)) - delta[:, None])
            dq += tl.dot(ds.to(k.dtype), k)
        return dq

    @triton.jit
    def _flash_bwd_dq(Q, K, V, DO, LSE, DELTA, DQ,
                      sqb, sqh, sqt, skb, skh, skt, sdb, sdh, sdt,
                      T, H, REP, qk_scale, sm_scale,
                      D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr):
        """One program: BLOCK_M query rows of one (batch, head) against every key at or before
        them; DQ contiguous (B, H, T, D). The dQ of the two-kernel backward (D > FUSED_DQ_MAX_D)."""
        pid_m, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        hk = h // REP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, D)
        row_ok = offs_m < T
        q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        do = tl.load(DO + b * sdb + h * sdh + offs_m[:, None] * sdt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        if UPCAST:
            q, do = q.to(tl.float32), do.to(tl.float32)
        lse = tl.load(LSE + bh * T + offs_m, mask=row_ok, other=0.0)
        delta = tl.load(DELTA + bh * T + offs_m, mask=row_ok, other=0.0)
        dq = tl.zeros([BLOCK_M, D], tl.float32)
        k_ptr, v_ptr = K + b * skb + hk * skh, V + b * skb + hk * skh
        diag = pid_m * BLOCK_M  # as in the forward: keys before it unmasked, from it to T masked
        dq = _dq_block(dq, q, do, lse, delta, k_ptr, v_ptr, skt, offs_m, offs_d, 0, diag, T, qk_scale, BLOCK_N, False, UPCAST)
        dq = _dq_block(dq, q, do, lse, delta, k_ptr, v_ptr, skt, offs_m, offs_d, diag, tl.minimum(diag + BLOCK_M, T),
                       T, qk_scale, BLOCK_N, True, UPCAST)
        tl.store(DQ + bh * T * D + offs_m[:, None] * D + offs_d[None, :], (dq * sm_scale).to(DQ.dtype.element_ty), mask=row_ok[:, None])


def _attn_run(kernel, cfg, over_queries, T, BH, D, *args, **flags):
    """One launch of an attention kernel at cfg: a program per block of queries (or keys) and head."""
    BM, BN, warps, stages = cfg
    kernel[(triton.cdiv(T, BM if over_queries else BN), BH)](
        *args, D=D, BLOCK_M=BM, BLOCK_N=BN, **flags, UPCAST=INTERPRET, num_warps=warps, num_stages=stages)


def _last_dim_contiguous(*xs):
    return [x if x.stride(-1) == 1 else x.contiguous() for x in xs]


def flash_attn_fwd(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Output (B, H, T, D) and the base-2 log-sum-exp of each row (B, H, T) in fp32."""
    B, H, T, D = q.shape
    Hkv = k.shape[1]
    assert k.shape == v.shape == (B, Hkv, T, D) and H % Hkv == 0, (q.shape, k.shape, v.shape)
    assert q.dtype == k.dtype == v.dtype, (q.dtype, k.dtype, v.dtype)
    assert D in (16, 32, 64, 128, 256), f"flash attention: head dim {D} must be a power of two in 16..256"
    q, k, v = _last_dim_contiguous(q, k, v)
    if k.stride() != v.stride():
        k, v = k.contiguous(), v.contiguous()
    o = _empty((B, H, T, D), q.dtype, q.device)
    lse = _empty((B, H, T), torch.float32, q.device)
    args = (q, k, v, o, lse, *q.stride()[:3], *k.stride()[:3], *o.stride()[:3], T, H, H // Hkv, LOG2E / math.sqrt(D))
    _launch("fwd", tune_key(B, H, T, D), D, lambda cfg: _attn_run(_flash_fwd, cfg, True, T, B * H, D, *args))
    return o, lse


_flash_attn_fwd = torch.library.custom_op("scalex::flash_attn_fwd", flash_attn_fwd, mutates_args=())


@_flash_attn_fwd.register_fake
def _(q, k, v):
    return q.new_empty(q.shape), q.new_empty(q.shape[:3], dtype=torch.float32)


def flash_attn_bwd(do: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, o: torch.Tensor,
                    lse: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    B, H, T, D = q.shape
    Hkv = k.shape[1]
    q, k, v, do = _last_dim_contiguous(q, k, v, do)
    if k.stride() != v.stride():
        k, v = k.contiguous(), v.contiguous()
    sm_scale = 1.0 / math.sqrt(D)
    delta = _empty((B, H, T), torch.float32, q.device)
    _flash_bwd_delta[(triton.cdiv(T, DELTA_BLOCK), B * H)](o, do, delta, *o.stride()[:3], *do.stride()[:3], T, H, D=D, BLOCK_M=DELTA_BLOCK)
    fused = D <= FUSED_DQ_MAX_D  # fused: the key blocks add dQ into fp32, zeroed per launch
    dq = _empty((B, H, T, D), torch.float32 if fused else q.dtype, q.device)
    dk = _empty((B, H, T, D), k.dtype, k.device)  # one share per query head: summed below
    dv = _empty((B, H, T, D), v.dtype, v.device)
    scalars = (*q.stride()[:3], *k.stride()[:3], *do.stride()[:3], T, H, H // Hkv, sm_scale * LOG2E, sm_scale)

    def run(kernel, over_queries, outs, cfg, **flags):
        if flags.get("FUSE_DQ"):
            dq.zero_()  # autotune launches it once per candidate: each starts from zero
        _attn_run(kernel, cfg, over_queries, T, B * H, D, q, k, v, do, lse, delta, *outs, *scalars, **flags)
    key = tune_key(B, H, T, D)
    if fused:
        _launch("bwd", key, D, lambda cfg: run(_flash_bwd, False, (dk, dv, dq), cfg, FUSE_DQ=True))
    else:  # dK, dV, then dQ over query blocks
        _launch("dkdv", key, D, lambda cfg: run(_flash_bwd, False, (dk, dv, dq), cfg, FUSE_DQ=False))
        _launch("dq", key, D, lambda cfg: run(_flash_bwd_dq, True, (dq,), cfg))
    if Hkv != H:  # grouped-query: the shares of the query heads that share each kv head
        dk, dv = (x.view(B, Hkv, H // Hkv, T, D).sum(2, dtype=torch.float32).to(x.dtype) for x in (dk, dv))
    return dq.to(q.dtype), dk, dv  # the fused pass's fp32 dQ rounded once


_flash_attn_bwd = torch.library.custom_op("scalex::flash_attn_bwd", flash_attn_bwd, mutates_args=())


@_flash_attn_bwd.register_fake
def _(do, q, k, v, o, lse):
    return q.new_empty(q.shape), k.new_empty(k.shape), v.new_empty(v.shape)


def _attn_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs, *output)
    ctx.mark_non_differentiable(output[1])


def _attn_backward(ctx, do, _dlse):
    q, k, v, o, lse = ctx.saved_tensors
    return torch.ops.scalex.flash_attn_bwd(do, q, k, v, o, lse)


torch.library.register_autograd("scalex::flash_attn_fwd", _attn_backward, setup_context=_attn_setup)


# ============================================================================= linear + CE
def linear_cross_entropy_reference(h, weight, targets, ignore_index=-100):
    """Per-token losses (N,) in fp32 of softmax(h @ weight.T) against targets; 0 where ignored.
    Materialises the (N, V) logits: fine for tests and small vocabularies."""
    logits = h @ weight.t()
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16/fp16 -> fp32 softmax
    return F.cross_entropy(logits, targets, ignore_index=ignore_index, reduction="none")


def linear_cross_entropy(h, weight, targets, ignore_index=-100):
    """The gradient it gives for the weight is exact for an upstream gradient that is the same
    for every token (a mean or a sum: what training uses). On CPU any upstream gradient is
    exact; on a GPU a non-uniform one stops with a device assert rather than a wrong dW."""
    if _use_triton(h):
        h = h.to(_autocast_dtype(h))  # the weight stays fp32 under autocast: dW comes back fp32
        need_grad = torch.is_grad_enabled() and (h.requires_grad or weight.requires_grad)
        with torch.autocast(h.device.type, enabled=False):
            return torch.ops.scalex.linear_ce_fwd(h, weight, targets, ignore_index, need_grad)[0]
    return linear_cross_entropy_reference(h, weight, targets, ignore_index)


if triton is not None:
    @triton.jit
    def _ce_rows(LOGITS, TARGETS, LOSS, LSE, stride, V, ignore_index,
                 BLOCK_V: tl.constexpr, WRITE_GRAD: tl.constexpr):
        """One program per row of a chunk's logits: fp32 log-sum-exp (online, over V in
        blocks), loss = lse - logit[target]; with WRITE_GRAD the row is overwritten in place by
        d loss / d logits = softmax - onehot (zero for an ignored target)."""
        row = tl.program_id(0).to(tl.int64)
        ptr = LOGITS + row * stride
        t = tl.load(TARGETS + row)
        m = float("-inf")
        s = 0.0
        for v0 in range(0, V, BLOCK_V):
            cols = v0 + tl.arange(0, BLOCK_V)
            x = tl.load(ptr + cols, mask=cols < V, other=float("-inf")).to(tl.float32)
            m_new = tl.maximum(m, tl.max(x, 0))
            s = s * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), 0)
            m = m_new
        lse = m + tl.log(s)
        ignored = t == ignore_index
        t_safe = tl.where(ignored, 0, t)
        x_t = tl.load(ptr + t_safe).to(tl.float32)
        tl.store(LOSS + row, tl.where(ignored, 0.0, lse - x_t))
        tl.store(LSE + row, lse)
        if WRITE_GRAD:
            for v0 in range(0, V, BLOCK_V):
                cols = v0 + tl.arange(0, BLOCK_V)
                x = tl.load(ptr + cols, mask=cols < V, other=0.0).to(tl.float32)
                g = tl.exp(x - lse) - tl.where(cols == t_safe, 1.0, 0.0)
                g = tl.where(ignored, 0.0, g)
                tl.store(ptr + cols, g.to(LOGITS.dtype.element_ty), mask=cols < V)


CE_BLOCK_V, CE_WARPS = 1024, 8  # the GPU launch of _ce_rows (the compile test uses them too)


def ce_chunk_rows(N, C, V, itemsize):
    """Rows per chunk: a multiple of 64 (whole wgmma tiles) with a chunk's logits at most half
    of dW's bytes (rows <= C/2) and CE_CHUNK_BYTES; at least 16, never past N."""
    fit = min(C // 2, CE_CHUNK_BYTES // max(1, V * itemsize))
    return max(1, min(N, max(16, fit - fit % 64 if fit >= 64 else fit)))


def _ce_launch(logits, targets, loss, lse, ignore_index, write_grad):
    V = logits.shape[1]
    block = CE_BLOCK_V if not INTERPRET else min(256, triton.next_power_of_2(V))
    _ce_rows[(logits.shape[0],)](logits, targets, loss, lse, logits.stride(0), V, ignore_index,
                                 BLOCK_V=block, WRITE_GRAD=write_grad, num_warps=CE_WARPS if not INTERPRET else 1)


def _addmm_into(dw, a, b):
    """dw += a @ b in one matmul that accumulates in dw's dtype: bf16 products of an fp32 master
    weight go through out_dtype on CUDA (no bf16 V x C temporary); CPU has no such kernel."""
    if a.dtype == dw.dtype:
        dw.addmm_(a, b)
    elif dw.is_cuda:
        torch.addmm(dw, a, b, out_dtype=dw.dtype, out=dw)
    else:
        dw.addmm_(a.to(dw.dtype), b.to(dw.dtype))


@torch.library.custom_op("scalex::linear_ce_fwd", mutates_args=())
def _linear_ce_fwd(h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, ignore_index: int,
                   need_grad: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per chunk of rows: logits = h W^T (one matmul), the Triton kernel turns them into losses
    and, in place, into d loss / d logits, and two more matmuls give that chunk's dh and add
    its share into dW: the three matmuls of an unfused forward + backward, with one chunk of
    logits alive at a time instead of N x V. Returns loss, lse (fp32, N) and the gradients of
    sum(loss): dh (N, C) in h's dtype, dW (V, C) in the weight's dtype (fp32 for autocast's
    master copy; for a bf16 weight, as Liger-Kernel does, the running sum is rounded once per
    chunk: an fp32 V x C buffer alone would be twice Liger's whole dW). Both empty without
    need_grad."""
    N, C = h.shape
    V = weight.shape[0]
    assert weight.shape[1] == C, (h.shape, weight.shape)
    w = weight.to(h.dtype)
    loss = _empty((N,), torch.float32, h.device)
    lse = _empty((N,), torch.float32, h.device)
    dh = torch.empty((N, C) if need_grad else (0,), dtype=h.dtype, device=h.device)
    dw = torch.zeros((V, C) if need_grad else (0,), dtype=weight.dtype, device=h.device)
    rows = ce_chunk_rows(N, C, V, h.element_size())
    targets = targets.contiguous()
    for r0 in range(0, N, rows):
        hc = h[r0:r0 + rows]
        logits = hc @ w.t()  # (rows, V) in the input dtype; the kernel reads it in fp32
        _ce_launch(logits, targets[r0:r0 + rows], loss[r0:r0 + rows], lse[r0:r0 + rows], ignore_index, need_grad)
        if need_grad:
            torch.mm(logits, w, out=dh[r0:r0 + rows])
            _addmm_into(dw, logits.t(), hc)
        del logits  # freed before the next chunk's is allocated: one chunk alive, not two
    return loss, lse, dh, dw


@_linear_ce_fwd.register_fake
def _(h, weight, targets, ignore_index, need_grad):
    N, C = h.shape
    f32 = torch.float32
    return (h.new_empty((N,), dtype=f32), h.new_empty((N,), dtype=f32), h.new_empty((N, C) if need_grad else (0,)),
            weight.new_empty(weight.shape if need_grad else (0,)))


@torch.library.custom_op("scalex::linear_ce_scale_grads", mutates_args=("dh", "dw"))
def _linear_ce_scale_grads(g: torch.Tensor, h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                           lse: torch.Tensor, dh: torch.Tensor, dw: torch.Tensor, ignore_index: int) -> None:
    """Turns the saved gradients of sum(loss) into those for upstream gradient g, in place (no
    second V x C buffer). dW scales by g[0] when g is uniform (a mean or a sum: what training
    uses); on a GPU a device assert guards that, without a host sync; on CPU a non-uniform g
    recomputes dW exactly."""
    c = g[0]  # a 0-dim tensor: scaling by it needs no (N, C) fp32 temporary, as g[:, None] would
    if g.is_cuda:
        torch._assert_async((g == c).all(), "linear_cross_entropy: a per-token upstream gradient needs kernels='torch'")
    elif not bool((g == c).all()):
        dh.mul_(g[:, None])
        dw.copy_(_ce_grads_exact(g, h, weight, targets, lse, ignore_index)[1])
        return
    dh.mul_(c)
    dw.mul_(c)


def _ce_grads_exact(g, h, weight, targets, lse, ignore_index):
    """dh, dW for any upstream gradient g, recomputing each chunk's logits from lse."""
    dh = torch.empty(h.shape, dtype=h.dtype, device=h.device)
    dw = torch.zeros(weight.shape, dtype=torch.float32, device=h.device)
    w = weight.to(h.dtype)
    rows = ce_chunk_rows(len(h), h.shape[1], weight.shape[0], h.element_size())
    for r0 in range(0, len(h), rows):
        hc = h[r0:r0 + rows]
        dlogits = ((hc @ w.t()).float() - lse[r0:r0 + rows, None]).exp_()
        t = targets[r0:r0 + rows]
        ok = t != ignore_index
        dlogits[torch.arange(len(t), device=h.device)[ok], t[ok]] -= 1.0
        dlogits[~ok] = 0.0
        dlogits *= g[r0:r0 + rows, None].float()
        dh[r0:r0 + rows] = (dlogits @ w.float()).to(h.dtype)
        dw.addmm_(dlogits.t(), hc.float())
    return dh, dw.to(weight.dtype)


@torch.library.custom_op("scalex::linear_ce_bwd", mutates_args=())
def _linear_ce_bwd(g: torch.Tensor, h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                   lse: torch.Tensor, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    return _ce_grads_exact(g, h, weight, targets, lse, ignore_index)


@_linear_ce_bwd.register_fake
def _(g, h, weight, targets, lse, ignore_index):
    return h.new_empty(h.shape), weight.new_empty(weight.shape)


def _ce_setup(ctx, inputs, output):
    h, weight, targets, ignore_index, need_grad = inputs
    loss, lse, dh, dw = output
    ctx.ignore_index = ignore_index
    ctx.save_for_backward(h, weight, targets, lse)
    ctx.grads = (dh, dw)  # not saved tensors: the first backward scales them in place
    ctx.set_materialize_grads(False)  # no zero (N, C) and (V, C) gradients for the dh, dw outputs
    ctx.mark_non_differentiable(lse, dh, dw)


def _ce_backward(ctx, g, _glse, _gdh, _gdw):
    h, weight, targets, lse = ctx.saved_tensors
    g = g.float()
    if ctx.grads is None:  # a second backward (retain_graph): the saved gradients were handed out
        dh, dw = torch.ops.scalex.linear_ce_bwd(g, h, weight, targets, lse, ctx.ignore_index)
        return dh, dw, None, None, None
    # the first backward hands out the saved gradients themselves, scaled in place, and drops
    # its own reference: autograd's accumulation takes them over, so the peak holds one dW
    (dh, dw), ctx.grads = ctx.grads, None
    torch.ops.scalex.linear_ce_scale_grads(g, h, weight, targets, lse, dh, dw, ctx.ignore_index)
    return dh, dw, None, None, None


torch.library.register_autograd("scalex::linear_ce_fwd", _ce_backward, setup_context=_ce_setup)
