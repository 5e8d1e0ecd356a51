"""kernels.py: the torch references against naive float64 math, and the backend switch."""
import math

import pytest
import torch
import torch.nn.functional as F

import kernels


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
    assert (out - ref).norm() / ref.norm() < 1e-10


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


def test_backend_switch():
    kernels.set_backend("torch")
    kernels.set_backend("auto")
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        kernels.set_backend("cuda")
