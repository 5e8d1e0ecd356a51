"""
The two hot operations of the model, behind two functions model.py calls:

    attention(q, k, v)                          causal self-attention (grouped-query allowed)
    linear_cross_entropy(h, weight, targets)    per-token loss of the output layer

Each has a plain torch reference and a fused Triton version beside it:
- flash attention: forward with an online softmax that saves only the log-sum-exp; backward
  recomputes the probabilities block by block (one kernel for dK/dV, one for dQ: no atomics);
- linear + cross-entropy: rows in chunks, so the N x V logits never exist at once; a Triton
  kernel turns each chunk's logits into losses and, in place, into their gradient.

`set_backend` chooses: "auto" (Triton for CUDA tensors when Triton imports, else torch),
"torch", or "triton" (forced; on CPU it needs TRITON_INTERPRET=1, which the tests use).

    python kernels.py bench [--quick] [--out=FILE]   correctness in bf16, then timings vs
                                                      SDPA / torch / Liger-Kernel (a GPU run)
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


def set_backend(name):
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"kernels: unknown backend '{name}'; use one of {', '.join(BACKENDS)}")
    if name == "triton" and triton is None:
        raise ValueError("kernels: backend 'triton' asked for, but triton does not import")
    _backend = name


def _use_triton(t, dtypes=(torch.float16, torch.bfloat16, torch.float32)):
    if _backend == "torch" or triton is None:
        return False
    return _backend == "triton" or (t.is_cuda and t.dtype in dtypes)


def _empty(shape, dtype, device):
    out = torch.empty(shape, dtype=dtype, device=device)
    return out.fill_(float("nan")) if _POISON else out


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
        return _flash_attention(q, k, v)
    return attention_reference(q, k, v)


LOG2E = 1.4426950408889634

if triton is not None:
    @triton.jit
    def _flash_fwd(Q, K, V, O, LSE,
                   sqb, sqh, sqt, skb, skh, skt, sob, soh, sot,
                   T, H, REP, qk_scale,
                   D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr):
        pid_m, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        hk = h // REP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, D)
        q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqt + offs_d[None, :], mask=offs_m[:, None] < T, other=0.0)
        if UPCAST:
            q = q.to(tl.float32)
        k_ptr = K + b * skb + hk * skh
        v_ptr = V + b * skb + hk * skh
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, D], tl.float32)
        hi = tl.minimum((pid_m + 1) * BLOCK_M, T)  # causal: keys past the last query are never seen
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = cols[:, None] < T
            k = tl.load(k_ptr + cols[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
            v = tl.load(v_ptr + cols[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
            if UPCAST:
                k, v = k.to(tl.float32), v.to(tl.float32)
            s = tl.dot(q, tl.trans(k)) * qk_scale  # base-2 logits
            s = tl.where((offs_m[:, None] >= cols[None, :]) & (cols[None, :] < T), s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))
            alpha = tl.exp2(m_i - m_new)
            p = tl.exp2(s - m_new[:, None])
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
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
    def _flash_bwd_dkdv(Q, K, V, DO, LSE, DELTA, DK, DV,
                        sqb, sqh, sqt, skb, skh, skt, sdb, sdh, sdt,
                        T, H, HKV, REP, qk_scale, sm_scale,
                        D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr):
        """One program: BLOCK_N keys of one (batch, kv head), summed over the REP query heads
        that share them (grouped-query) and over every query block at or after them (causal).
        DK, DV are contiguous (B, HKV, T, D)."""
        pid_n, bhk = tl.program_id(0), tl.program_id(1)
        b, hk = bhk // HKV, bhk % HKV
        offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        offs_m = tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, D)
        kv_mask = offs_n[:, None] < T
        k = tl.load(K + b * skb + hk * skh + offs_n[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
        v = tl.load(V + b * skb + hk * skh + offs_n[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
        if UPCAST:
            k, v = k.to(tl.float32), v.to(tl.float32)
        dk = tl.zeros([BLOCK_N, D], tl.float32)
        dv = tl.zeros([BLOCK_N, D], tl.float32)
        lo = (pid_n * BLOCK_N) // BLOCK_M * BLOCK_M
        for r in range(0, REP):
            h = hk * REP + r
            bh = b * H + h
            for start_m in range(lo, T, BLOCK_M):
                rows = start_m + offs_m
                row_ok = rows < T
                q = tl.load(Q + b * sqb + h * sqh + rows[:, None] * sqt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
                do = tl.load(DO + b * sdb + h * sdh + rows[:, None] * sdt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
                if UPCAST:
                    q, do = q.to(tl.float32), do.to(tl.float32)
                lse = tl.load(LSE + bh * T + rows, mask=row_ok, other=0.0)
                delta = tl.load(DELTA + bh * T + rows, mask=row_ok, other=0.0)
                s = tl.dot(q, tl.trans(k)) * qk_scale
                keep = (rows[:, None] >= offs_n[None, :]) & row_ok[:, None] & (offs_n[None, :] < T)
                p = tl.where(keep, tl.exp2(s - lse[:, None]), 0.0)  # (M, N) probabilities
                dv += tl.dot(tl.trans(p.to(do.dtype)), do)
                dp = tl.dot(do, tl.trans(v))
                ds = p * (dp - delta[:, None])
                dk += tl.dot(tl.trans(ds.to(q.dtype)), q)
        out = (b * HKV + hk) * T * D + offs_n[:, None] * D + offs_d[None, :]
        tl.store(DK + out, (dk * sm_scale).to(DK.dtype.element_ty), mask=kv_mask)
        tl.store(DV + out, dv.to(DV.dtype.element_ty), mask=kv_mask)

    @triton.jit
    def _flash_bwd_dq(Q, K, V, DO, LSE, DELTA, DQ,
                      sqb, sqh, sqt, skb, skh, skt, sdb, sdh, sdt,
                      T, H, REP, qk_scale, sm_scale,
                      D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr):
        """One program: BLOCK_M query rows of one (batch, head); DQ contiguous (B, H, T, D)."""
        pid_m, bh = tl.program_id(0), tl.program_id(1)
        b, h = bh // H, bh % H
        hk = h // REP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, D)
        row_ok = offs_m < T
        q = tl.load(Q + b * sqb + h * sqh + offs_m[:, None] * sqt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        do = tl.load(DO + b * sdb + h * sdh + offs_m[:, None] * sdt + offs_d[None, :], mask=row_ok[:, None], other=0.0)
        if UPCAST:
            q, do = q.to(tl.float32), do.to(tl.float32)
        lse = tl.load(LSE + bh * T + offs_m, mask=row_ok, other=0.0)
        delta = tl.load(DELTA + bh * T + offs_m, mask=row_ok, other=0.0)
        dq = tl.zeros([BLOCK_M, D], tl.float32)
        hi = tl.minimum((pid_m + 1) * BLOCK_M, T)
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = cols[:, None] < T
            k = tl.load(K + b * skb + hk * skh + cols[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
            v = tl.load(V + b * skb + hk * skh + cols[:, None] * skt + offs_d[None, :], mask=kv_mask, other=0.0)
            if UPCAST:
                k, v = k.to(tl.float32), v.to(tl.float32)
            s = tl.dot(q, tl.trans(k)) * qk_scale
            keep = (offs_m[:, None] >= cols[None, :]) & row_ok[:, None] & (cols[None, :] < T)
            p = tl.where(keep, tl.exp2(s - lse[:, None]), 0.0)
            dp = tl.dot(do, tl.trans(v))
            ds = p * (dp - delta[:, None])
            dq += tl.dot(ds.to(k.dtype), k)
        tl.store(DQ + (b * H + h) * T * D + offs_m[:, None] * D + offs_d[None, :], (dq * sm_scale).to(DQ.dtype.element_ty), mask=row_ok[:, None])


def _attn_configs(D):
    """Block sizes and launch settings per kernel: {kernel: (rows, cols, num_warps, num_stages)}
    where rows x cols is the tile of queries x keys a program works on. One config each (the
    CPU interpreter cannot autotune across several). The GPU values are starting points in
    the range the Triton tutorial and FlashAttention-2 use, not yet tuned on a card: the dK/dV
    kernel holds its keys' K, V, dK and dV in registers, so it takes fewer of them at D=128."""
    if INTERPRET:
        return {"fwd": (16, 16, 1, 1), "dkdv": (16, 16, 1, 1), "dq": (16, 16, 1, 1)}
    if D <= 64:
        return {"fwd": (128, 64, 4, 3), "dkdv": (32, 128, 4, 3), "dq": (128, 32, 4, 3)}
    return {"fwd": (128, 64, 8, 2), "dkdv": (32, 64, 4, 2), "dq": (64, 32, 4, 2)}


class FlashAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        B, H, T, D = q.shape
        Hkv = k.shape[1]
        assert k.shape == v.shape == (B, Hkv, T, D) and H % Hkv == 0, (q.shape, k.shape, v.shape)
        assert q.dtype == k.dtype == v.dtype, (q.dtype, k.dtype, v.dtype)
        assert D in (16, 32, 64, 128, 256), f"flash attention: head dim {D} must be a power of two in 16..256"
        q, k, v = (x if x.stride(-1) == 1 else x.contiguous() for x in (q, k, v))
        if k.stride() != v.stride():
            k, v = k.contiguous(), v.contiguous()
        o = _empty((B, H, T, D), q.dtype, q.device)
        lse = _empty((B, H, T), torch.float32, q.device)
        BM, BN, warps, stages = _attn_configs(D)["fwd"]
        sm_scale = 1.0 / math.sqrt(D)
        _flash_fwd[(triton.cdiv(T, BM), B * H)](
            q, k, v, o, lse, *q.stride()[:3], *k.stride()[:3], *o.stride()[:3], T, H, H // Hkv,
            sm_scale * LOG2E, D=D, BLOCK_M=BM, BLOCK_N=BN, UPCAST=INTERPRET, num_warps=warps, num_stages=stages)
        ctx.save_for_backward(q, k, v, o, lse)
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        B, H, T, D = q.shape
        Hkv = k.shape[1]
        do = do if do.stride(-1) == 1 else do.contiguous()
        cfg = _attn_configs(D)
        sm_scale = 1.0 / math.sqrt(D)
        delta = _empty((B, H, T), torch.float32, q.device)
        _flash_bwd_delta[(triton.cdiv(T, 64), B * H)](o, do, delta, *o.stride()[:3], *do.stride()[:3], T, H, D=D, BLOCK_M=64)
        dq = _empty((B, H, T, D), q.dtype, q.device)
        dk = _empty((B, Hkv, T, D), k.dtype, k.device)
        dv = _empty((B, Hkv, T, D), v.dtype, v.device)
        strides = (*q.stride()[:3], *k.stride()[:3], *do.stride()[:3])
        BM, BN, warps, stages = cfg["dkdv"]
        _flash_bwd_dkdv[(triton.cdiv(T, BN), B * Hkv)](
            q, k, v, do, lse, delta, dk, dv, *strides, T, H, Hkv, H // Hkv, sm_scale * LOG2E, sm_scale,
            D=D, BLOCK_M=BM, BLOCK_N=BN, UPCAST=INTERPRET, num_warps=warps, num_stages=stages)
        BM, BN, warps, stages = cfg["dq"]
        _flash_bwd_dq[(triton.cdiv(T, BM), B * H)](
            q, k, v, do, lse, delta, dq, *strides, T, H, H // Hkv, sm_scale * LOG2E, sm_scale,
            D=D, BLOCK_M=BM, BLOCK_N=BN, UPCAST=INTERPRET, num_warps=warps, num_stages=stages)
        return dq, dk, dv


# ============================================================================= linear + CE
def linear_cross_entropy_reference(h, weight, targets, ignore_index=-100):
    """Per-token losses (N,) in fp32 of softmax(h @ weight.T) against targets; 0 where ignored.
    Materialises the (N, V) logits: fine for tests and small vocabularies."""
    logits = h @ weight.t()
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16/fp16 -> fp32 softmax
    return F.cross_entropy(logits, targets, ignore_index=ignore_index, reduction="none")


def linear_cross_entropy(h, weight, targets, ignore_index=-100):
    if _use_triton(h):
        return _fused_linear_cross_entropy(h, weight, targets, ignore_index)
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


def _ce_chunk_rows(N, C, V):
    """Rows per chunk so that a chunk's logits are about as big as the hidden states (the
    Liger-Kernel heuristic): memory stays O(N*C), not O(N*V)."""
    return min(N, triton.next_power_of_2(max(1, triton.cdiv(N, triton.cdiv(V, C)))))


def _ce_launch(logits, targets, loss, lse, ignore_index, write_grad):
    V = logits.shape[1]
    block = 1024 if not INTERPRET else min(256, triton.next_power_of_2(V))
    _ce_rows[(logits.shape[0],)](logits, targets, loss, lse, logits.stride(0), V, ignore_index,
                                 BLOCK_V=block, WRITE_GRAD=write_grad, num_warps=8 if not INTERPRET else 1)


class FusedLinearCrossEntropy(torch.autograd.Function):
    """Forward does the whole work: per chunk of rows, logits = h W^T (one matmul), the Triton
    kernel turns them into losses and then, in place, into d loss / d logits, and two more
    matmuls give that chunk's dh and its share of dW. That is the same three matmuls as
    unfused forward + backward, with O(chunk x V) extra memory instead of O(N x V).
    The gradients are those of sum(losses); backward scales them by the incoming gradient,
    which the training loop makes uniform (a mean). A non-uniform one is still exact: dh
    scales row by row, and dW is recomputed chunk by chunk with the per-row weights."""

    @staticmethod
    def forward(ctx, h, weight, targets, ignore_index):
        N, C = h.shape
        V = weight.shape[0]
        assert h.dtype == weight.dtype and weight.shape[1] == C, (h.dtype, weight.dtype, h.shape, weight.shape)
        need_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        loss = _empty((N,), torch.float32, h.device)
        lse = _empty((N,), torch.float32, h.device)
        dh = torch.empty((N, C), dtype=h.dtype, device=h.device) if need_grad else None
        # dW accumulates in the weight's dtype (as Liger-Kernel): an fp32 copy of a 200k x 2k
        # output layer would be 1.6 GB; each chunk's matmul still sums in fp32 inside.
        dw = torch.zeros_like(weight) if need_grad else None
        rows = _ce_chunk_rows(N, C, V)
        targets = targets.contiguous()
        for r0 in range(0, N, rows):
            hc = h[r0:r0 + rows]
            logits = hc @ weight.t()  # (rows, V) in the input dtype; the kernel reads it in fp32
            _ce_launch(logits, targets[r0:r0 + rows], loss[r0:r0 + rows], lse[r0:r0 + rows], ignore_index, need_grad)
            if need_grad:
                torch.mm(logits, weight, out=dh[r0:r0 + rows])
                dw.addmm_(logits.t(), hc)
        ctx.ignore_index = ignore_index
        if need_grad:
            ctx.save_for_backward(h, weight, targets, lse, dh, dw)
        return loss

    @staticmethod
    def backward(ctx, g):
        h, weight, targets, lse, dh, dw = ctx.saved_tensors
        g = g.float()
        if bool((g == g[0]).all()):  # a mean or a sum upstream: one scalar, scaled in place
            c = g[0]
            return dh.mul_(c.to(dh.dtype)), dw.mul_(c.to(dw.dtype)), None, None
        dh = (dh.float() * g[:, None]).to(h.dtype)
        dw = torch.zeros(weight.shape, dtype=torch.float32, device=h.device)
        N, C = h.shape
        rows = _ce_chunk_rows(N, C, weight.shape[0])
        for r0 in range(0, N, rows):
            hc = h[r0:r0 + rows]
            dlogits = ((hc @ weight.t()).float() - lse[r0:r0 + rows, None]).exp_()
            t = targets[r0:r0 + rows]
            ok = t != ctx.ignore_index
            dlogits[torch.arange(len(t), device=h.device)[ok], t[ok]] -= 1.0
            dlogits[~ok] = 0.0
            dw.addmm_((dlogits * g[r0:r0 + rows, None]).t(), hc.float())
        return dh, dw.to(weight.dtype), None, None


# torch.compile runs these as opaque calls between compiled graphs (a graph break each): the
# backward's data-dependent branch and the chunk loop are not for Dynamo to trace.
# Under autocast the inputs are cast here, once, to the autocast dtype (autograd carries the
# gradient back through the cast to fp32 master weights), and autocast is off inside, so every
# matmul in the Function runs in one known dtype.
def _autocast_inputs(*xs):
    dev = xs[0].device.type
    dt = torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else xs[0].dtype
    return [x.to(dt) for x in xs]


@torch.compiler.disable
def _flash_attention(q, k, v):
    q, k, v = _autocast_inputs(q, k, v)
    with torch.autocast(q.device.type, enabled=False):
        return FlashAttention.apply(q, k, v)


@torch.compiler.disable
def _fused_linear_cross_entropy(h, weight, targets, ignore_index):
    h, weight = _autocast_inputs(h, weight)
    with torch.autocast(h.device.type, enabled=False):
        return FusedLinearCrossEntropy.apply(h, weight, targets, ignore_index)


# ============================================================================= benchmark
def _timeit(fn, reps, cuda):
    """Median seconds of fn() after warm-up (CUDA events on a GPU)."""
    import statistics
    import time
    for _ in range(3):
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
    if not cuda:
        return None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def bench(argv):
    """Correctness on this device against float64, then ours vs the baselines in one run."""
    import json
    import time
    tiny = "--tiny" in argv
    reps = 3 if tiny else (10 if "--quick" in argv else 30)
    out = next((a.split("=", 1)[1] for a in argv if a.startswith("--out=")), None)
    out = out or (os.path.join(os.environ["OUT"], "bench.json") if os.environ.get("OUT") else None)
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    dt = torch.bfloat16 if cuda else torch.float32
    res = {"device": torch.cuda.get_device_name() if cuda else "cpu (Triton interpreter)", "date": time.strftime("%Y-%m-%d"),
           "torch": torch.__version__, "triton": getattr(triton, "__version__", None), "dtype": str(dt),
           "checks": [], "timings": []}
    set_backend("triton")
    rel = lambda a, b: ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1e-12)).item()

    # 1. correctness in the training dtype against float64
    tol = 3e-2 if dt == torch.bfloat16 else 1e-4
    for B, H, Hkv, T, D in ([(1, 2, 1, 37, 16)] if tiny else [(2, 8, 8, 1000, 64), (1, 16, 4, 777, 128), (2, 4, 4, 1, 64)]):
        q = torch.randn(B, H, T, D, device=dev, dtype=dt, requires_grad=True)
        k = torch.randn(B, Hkv, T, D, device=dev, dtype=dt, requires_grad=True)
        v = torch.randn(B, Hkv, T, D, device=dev, dtype=dt, requires_grad=True)
        o = attention(q, k, v)
        do = torch.randn_like(o)
        o.backward(do)
        r = [x.detach().double().requires_grad_() for x in (q, k, v)]
        ro = attention_reference(*r)
        ro.backward(do.double())
        errs = {"out": rel(o, ro), "dq": rel(q.grad, r[0].grad) if T > 1 else 0.0, "dk": rel(k.grad, r[1].grad), "dv": rel(v.grad, r[2].grad)}
        res["checks"].append({"what": "attention", "shape": [B, H, Hkv, T, D], "rel_err": errs, "ok": max(errs.values()) < tol})
    for N, C, V in ([(64, 16, 300)] if tiny else [(4096, 768, 50304), (1000, 2048, 100003)]):
        h = (torch.randn(N, C, device=dev) / math.sqrt(C)).to(dt).requires_grad_()
        w = torch.randn(V, C, device=dev).to(dt).requires_grad_()
        t = torch.randint(0, V, (N,), device=dev)
        t[::7] = -100
        loss = linear_cross_entropy(h, w, t)
        loss.mean().backward()
        hd, wd = h.detach().double().requires_grad_(), w.detach().double().requires_grad_()
        rl = linear_cross_entropy_reference(hd, wd, t)
        rl.mean().backward()
        errs = {"loss": rel(loss, rl), "dh": rel(h.grad, hd.grad), "dw": rel(w.grad, wd.grad)}
        res["checks"].append({"what": "linear_ce", "shape": [N, C, V], "rel_err": errs, "ok": max(errs.values()) < tol})
    res["correct"] = all(c["ok"] for c in res["checks"])

    # 2. attention forward+backward vs SDPA (flash backend on a GPU)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    sdpa_ctx = (lambda: sdpa_kernel(SDPBackend.FLASH_ATTENTION)) if cuda else (lambda: sdpa_kernel(SDPBackend.MATH))
    for B, H, T, D in ([(1, 2, 64, 16)] if tiny else [(16, 12, 1024, 64), (8, 16, 2048, 128), (4, 32, 4096, 128)]):
        q, k, v = (torch.randn(B, H, T, D, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
        do = torch.randn(B, H, T, D, device=dev, dtype=dt)

        def ours():
            attention(q, k, v).backward(do)

        def sdpa():
            with sdpa_ctx():
                F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(do)
        flops = 3.5 * 4 * B * H * T * T * D / 2  # causal forward is half of 4BHT^2D; backward 2.5x forward
        t_ours, t_sdpa = _timeit(ours, reps, cuda), _timeit(sdpa, reps, cuda)
        res["timings"].append({"what": "attention", "shape": f"B{B} H{H} T{T} D{D}", "ours_tflops": flops / t_ours / 1e12,
                               "sdpa_tflops": flops / t_sdpa / 1e12, "ratio": t_sdpa / t_ours})

    # 3. output layer + cross-entropy forward+backward vs torch and Liger-Kernel
    try:
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss
        liger = LigerFusedLinearCrossEntropyLoss()
    except ImportError:
        liger = None
    for N, C, V in ([(64, 16, 300)] if tiny else [(16384, 768, 50304), (16384, 768, 100352), (16384, 2048, 200064)]):
        h = (torch.randn(N, C, device=dev) / math.sqrt(C)).to(dt).requires_grad_()
        w = (torch.randn(V, C, device=dev) * 0.02).to(dt).requires_grad_()
        t = torch.randint(0, V, (N,), device=dev)
        runs = {"ours": lambda: linear_cross_entropy(h, w, t).mean().backward(),
                "torch": lambda: F.cross_entropy((h @ w.t()).float(), t).backward()}
        if liger is not None:
            runs["liger"] = lambda: liger(w, h, t).backward()
        row = {"what": "linear_ce", "shape": f"N{N} C{C} V{V}"}
        for name, fn in runs.items():
            h.grad = w.grad = None
            row[f"{name}_ms"] = _timeit(fn, reps, cuda) * 1e3
            h.grad = w.grad = None
            mem = _peak_extra(fn, cuda)
            row[f"{name}_mib"] = None if mem is None else mem / 2**20
        row["ratio_time_vs_liger"] = row["liger_ms"] / row["ours_ms"] if liger is not None else None
        row["ratio_time_vs_torch"] = row["torch_ms"] / row["ours_ms"]
        res["timings"].append(row)

    # 4. a whole training step: our kernels vs SDPA + torch cross-entropy, both compiled
    from model import build_model
    preset, V, T, B = ("tiny", 300, 32, 2) if tiny else ("124m", 50304, 1024, 16)
    step_row = {"what": "train_step", "shape": f"{preset} B{B} T{T} V{V}"}
    for backend in ("triton", "torch"):
        set_backend(backend)
        torch.manual_seed(0)
        m = build_model(preset, V, T).to(dev)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4, fused=cuda)
        cm = torch.compile(m) if cuda else m  # the interpreter does not compile
        x = torch.randint(0, V, (B, T + 1), device=dev)

        def step():
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=cuda):
                loss = cm(x[:, :-1], x[:, 1:]).mean()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        step_row[f"{backend}_tok_s"] = B * T / _timeit(step, max(3, reps // 3), cuda)
    step_row["ratio"] = step_row["triton_tok_s"] / step_row["torch_tok_s"]
    res["timings"].append(step_row)
    set_backend("auto")

    lines = [f"device: {res['device']}  torch {res['torch']}  triton {res['triton']}  {res['date']}",
             "correctness vs float64 (rel err): " + ("all ok" if res["correct"] else "FAILED")]
    for c in res["checks"]:
        lines.append(f"  {c['what']:<10}{str(c['shape']):<26}" + "  ".join(f"{k} {v:.1e}" for k, v in c["rel_err"].items()) + ("" if c["ok"] else "  FAIL"))
    lines.append(f"{'what':<11}{'shape':<24}{'ours':>14}{'baseline':>26}{'ratio':>8}")
    for r in res["timings"]:
        if r["what"] == "attention":
            lines.append(f"{'attention':<11}{r['shape']:<24}{r['ours_tflops']:>9.1f} TF/s{'SDPA ' + format(r['sdpa_tflops'], '.1f') + ' TF/s':>26}{r['ratio']:>7.2f}x")
        elif r["what"] == "linear_ce":
            mem = lambda k: "" if r.get(k) is None else f" {r[k]:,.0f} MiB"
            base = f"torch {r['torch_ms']:.1f} ms{mem('torch_mib')}"
            if r.get("liger_ms") is not None:
                base += f" | liger {r['liger_ms']:.1f} ms{mem('liger_mib')}"
            lines.append(f"{'linear_ce':<11}{r['shape']:<24}{r['ours_ms']:>8.1f} ms{mem('ours_mib')}  {base}  "
                         f"{(r['ratio_time_vs_liger'] or r['ratio_time_vs_torch']):.2f}x vs {'liger' if r['ratio_time_vs_liger'] else 'torch'}")
        else:
            lines.append(f"{'train_step':<11}{r['shape']:<24}{r['triton_tok_s']:>9,.0f} tok/s{'torch ' + format(r['torch_tok_s'], ',.0f') + ' tok/s':>24}{r['ratio']:>7.2f}x")
    print("\n".join(lines))
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if res["correct"] else 1


if __name__ == "__main__":
    import sys
    if len(sys.argv) >= 2 and sys.argv[1] == "bench":
        sys.exit(bench(sys.argv[2:]))
    print(__doc__.strip().splitlines()[-2].strip(), file=sys.stderr)
    sys.exit(2)
