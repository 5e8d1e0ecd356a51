"""The fused linear + cross-entropy's peak extra memory: arithmetic at the benchmark shapes
against Liger-Kernel's reference measurement, and the same arithmetic checked on CPU by an
allocation counter (torch's profiler) in Triton's interpreter."""
import math

import pytest
import torch

import kernels

MIB = 2**20
# Liger-Kernel 0.8.5's peak extra MiB at N16384 (bf16): a reference measurement on one H200
# (torch 2.11, triton 3.6, 2026-11-26; BENCHMARKS.md), (C, V) -> MiB
LIGER_MIB = {(768, 50304): 122, (768, 100352): 196, (2048, 200064): 943}


def fused_ce_extra_bytes(N, C, V, itemsize):
    """What linear_cross_entropy(h, w, t).mean().backward() holds beyond its inputs at its
    peak, for h and w in one dtype: dW (handed to w.grad, no copy), dh (to h.grad), one chunk
    of logits, and per-row fp32 loss and lse."""
    rows = kernels.ce_chunk_rows(N, C, V, itemsize)
    return V * C * itemsize + N * C * itemsize + rows * V * itemsize + 2 * N * 4


@pytest.mark.parametrize("C,V", sorted(LIGER_MIB))
def test_within_one_and_a_half_times_liger(C, V):
    ours = fused_ce_extra_bytes(16384, C, V, 2) / MIB
    assert ours <= 1.5 * LIGER_MIB[(C, V)], (ours, LIGER_MIB[(C, V)])


def peak_extra_cpu(fn):
    """Peak bytes fn() holds on CPU beyond what is live before it, from the profiler's
    allocation events in order. A CPU matmul's own scratch (allocated and freed inside one op
    call, e.g. bf16 -> fp32 copies in aten::addmm_) is left out: a GPU matmul does not allocate
    it, and it is not ours to count."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    todo, allocs = list(p.profiler.kineto_results.experimental_event_tree()), []
    while todo:
        e = todo.pop()
        todo += e.children
        if e.tag == _EventType.Allocation:  # (time, bytes: + made / - freed, the op call it happened in)
            allocs.append((e.start_time_ns, e.extra_fields.alloc_size,
                           (e.parent.name, e.parent.start_time_ns) if e.parent else None))
    made, freed = {}, {}
    for _, n, op in allocs:
        if op:
            side = made if n > 0 else freed
            side[(op, abs(n))] = side.get((op, abs(n)), 0) + 1
    skip = {k: [min(v, freed.get(k, 0))] * 2 for k, v in made.items()}  # [allocations, frees] to leave out
    cur = peak = 0
    for _, n, op in sorted(allocs):
        left = skip.get((op, abs(n)))
        if left and left[n < 0] > 0:
            left[n < 0] -= 1
            continue
        cur += n
        peak = max(peak, cur)
    return peak


@pytest.mark.skipif(kernels.triton is None or not kernels.INTERPRET, reason="needs triton (requirements-gpu.txt) and TRITON_INTERPRET=1")
def test_cpu_allocations_match_the_arithmetic():
    N, C, V = 256, 128, 1024  # rows per chunk C/2 = 64: four chunks, one alive at a time
    torch.manual_seed(0)
    h = (torch.randn(N, C) / math.sqrt(C)).to(torch.bfloat16).requires_grad_()
    w = (torch.randn(V, C) * 0.02).to(torch.bfloat16).requires_grad_()
    t = torch.randint(0, V, (N,))
    kernels.set_backend("triton")
    try:
        measured = peak_extra_cpu(lambda: kernels.linear_cross_entropy(h, w, t).mean().backward())
        h.grad = w.grad = None
        loss = kernels.linear_cross_entropy(h, w, t).mean()
        backward = peak_extra_cpu(loss.backward)
    finally:
        kernels.set_backend("auto")
    want = fused_ce_extra_bytes(N, C, V, 2)
    assert w.grad.dtype == torch.bfloat16 and h.grad.dtype == torch.bfloat16
    # the backward holds nothing new: it scales the saved dh and dW in place and asks autograd
    # for no zero gradients of them (before, it made a zero (V, C) and (N, C) buffer and an fp32
    # (N, C) temporary: 2.3x the arithmetic here)
    assert backward <= 16 * 1024, backward
    # Triton's interpreter keeps its copies of a kernel's tensor arguments alive a little longer,
    # so up to two more chunks of logits than on a GPU are alive on CPU in the forward loop
    chunk = kernels.ce_chunk_rows(N, C, V, 2) * V * 2
    assert want <= measured <= want + 2 * chunk + 16 * 1024, (measured, want, chunk)
