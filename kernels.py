"""
The two hot operations of the model, behind two functions model.py calls:

    attention(q, k, v)                          causal self-attention
    linear_cross_entropy(h, weight, targets)    per-token loss of the output layer

Each has a plain torch reference here. Fused Triton versions (flash attention; a linear +
cross-entropy that never materialises the N x V logits) slot in behind the same functions;
`set_backend` chooses: "auto" (Triton on CUDA tensors when available, else torch), "torch"
or "triton" (for A/B runs).
"""
import torch
import torch.nn.functional as F

BACKENDS = ("auto", "torch", "triton")
_backend = "auto"


def set_backend(name):
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"kernels: unknown backend '{name}'; use one of {', '.join(BACKENDS)}")
    _backend = name


# ----------------------------------------------------------------------------- attention
def attention_reference(q, k, v):
    """q: (B, H, T, D); k, v: (B, Hkv, T, D) with H a multiple of Hkv (grouped-query)."""
    if k.shape[1] != q.shape[1]:
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def attention(q, k, v):
    return attention_reference(q, k, v)


# ----------------------------------------------------------------------------- linear + CE
def linear_cross_entropy_reference(h, weight, targets, ignore_index=-100):
    """Per-token losses (N,) in fp32 of softmax(h @ weight.T) against targets; 0 where ignored.
    Materialises the (N, V) logits: fine for tests and small vocabularies."""
    logits = h @ weight.t()
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16/fp16 -> fp32 softmax
    return F.cross_entropy(logits, targets, ignore_index=ignore_index, reduction="none")


def linear_cross_entropy(h, weight, targets, ignore_index=-100):
    return linear_cross_entropy_reference(h, weight, targets, ignore_index)
