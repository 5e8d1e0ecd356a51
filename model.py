"""
A Llama-style decoder: token embedding, n_layer x (RMSNorm -> attention with RoPE ->
RMSNorm -> SwiGLU MLP), final RMSNorm, output layer. No biases, no dropout.
Attention and the loss go through kernels.py so the Triton versions drop in unchanged.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import kernels
# ModelConfig (the model's settings) and PRESETS (its sizes, tiny ... 1b) are torch-free, in
# scalex/presets.py, so that a run's config is checked before torch loads.
from scalex.presets import PRESETS, ModelConfig  # noqa: F401 (model.PRESETS, model.ModelConfig)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.ones(d))

    def forward(self, x):
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


def rope_tables(head_dim, T, theta, device):
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    f = torch.outer(torch.arange(T, device=device, dtype=torch.float32), inv)
    return f.cos(), f.sin()


def apply_rope(x, cos, sin):
    """x: (B, H, T, D); rotates the two halves of each head (the GPT-NeoX / Llama layout)."""
    x1, x2 = x.float().chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).type_as(x)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv, self.hd = c.n_head, c.n_kv_head, c.d_model // c.n_head
        self.qkv = nn.Linear(c.d_model, (c.n_head + 2 * c.n_kv_head) * self.hd, bias=False)
        self.proj = nn.Linear(c.d_model, c.d_model, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).split([self.nh * self.hd, self.nkv * self.hd, self.nkv * self.hd], dim=-1)
        q = apply_rope(q.view(B, T, self.nh, self.hd).transpose(1, 2), cos, sin)
        k = apply_rope(k.view(B, T, self.nkv, self.hd).transpose(1, 2), cos, sin)
        v = v.view(B, T, self.nkv, self.hd).transpose(1, 2)
        y = kernels.attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d_ff = c.d_ff or 64 * math.ceil(8 * c.d_model / 3 / 64)
        self.gate_up = nn.Linear(c.d_model, 2 * d_ff, bias=False)
        self.down = nn.Linear(d_ff, c.d_model, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1, self.attn = RMSNorm(c.d_model), Attention(c)
        self.norm2, self.mlp = RMSNorm(c.d_model), MLP(c)

    def forward(self, x, cos, sin):
        x = x + self.attn(self.norm1(x), cos, sin)
        return x + self.mlp(self.norm2(x))


class Model(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        assert c.d_model % c.n_head == 0 and c.n_head % c.n_kv_head == 0, c
        self.config = c
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.norm = RMSNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_embeddings:
            self.head.weight = self.embed.weight
        cos, sin = rope_tables(c.d_model // c.n_head, c.block_size, c.rope_theta, "cpu")
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        # Residual-branch outputs scaled down with depth (GPT-2): keeps the residual stream's
        # variance from growing with n_layer at init.
        for name, p in self.named_parameters():
            if name.endswith(("proj.weight", "down.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self, exclude_embedding=True):
        n = sum(p.numel() for p in self.parameters())
        return n - self.embed.weight.numel() if exclude_embedding and not self.config.tie_embeddings else n

    def forward(self, idx, targets=None):
        """idx (B, T) -> logits (B, T, V) in fp32. With targets (B, T): the per-token losses
        (B, T) in fp32 instead (ignored targets: 0), through kernels.linear_cross_entropy: with
        kernels=triton the head is fused into the cross-entropy in chunks, so the (B, T, V)
        logits are never materialised (training and bits-per-byte need only the losses); the
        torch reference, which kernels=auto uses until a GPU measurement says otherwise
        (BENCHMARKS.md), computes them whole."""
        B, T = idx.shape
        assert T <= self.config.block_size, f"sequence {T} > block_size {self.config.block_size}"
        x = self.embed(idx)
        cos, sin = self.cos[:T], self.sin[:T]
        for block in self.blocks:
            x = block(x, cos, sin)
        h = self.norm(x)
        if targets is None:
            return self.head(h).float()
        return kernels.linear_cross_entropy(h.view(B * T, -1), self.head.weight, targets.reshape(-1)).view(B, T)

    @torch.no_grad()
    def generate(self, ids, max_new_tokens, temperature=1.0, top_k=None, allowed=None, stop=None, generator=None):
        """Token ids continuing the list `ids`, drawn one at a time (no key-value cache: the
        last block_size ids are recomputed each step, plenty fast at these sizes). `allowed`
        masks the ids that may be drawn, `stop` ends the text (not returned); temperature 0
        is greedy. The same generator state gives the same ids on the same device."""
        ids, new = list(ids), []
        dev = self.cos.device
        for _ in range(max_new_tokens):
            lg = self(torch.tensor([ids[-self.config.block_size:]], device=dev))[0, -1].cpu()
            if allowed is not None:
                lg = lg.masked_fill(~allowed, float("-inf"))
            if temperature <= 0:
                nxt = int(lg.argmax())
            else:
                lg = lg / temperature
                if top_k:
                    kth = torch.topk(lg, min(top_k, lg.numel())).values[-1]
                    lg = lg.masked_fill(lg < kth, float("-inf"))
                nxt = int(torch.multinomial(torch.softmax(lg, -1), 1, generator=generator))
            if nxt == stop:
                break
            ids.append(nxt)
            new.append(nxt)
        return new

    def flops_per_token(self, T):
        """Training FLOPs per token: 6 per weight (forward 2, backward 4) plus attention's
        score and value matmuls, 12 * n_layer * d_model * T (the PaLM appendix count,
        not halved for causality, as nanoGPT's MFU)."""
        c = self.config
        return 6 * self.num_params(exclude_embedding=True) + 12 * c.n_layer * c.d_model * T


def build_model(preset, vocab_size, block_size, **overrides):
    if preset not in PRESETS:
        raise ValueError(f"model: unknown preset '{preset}'; choose one of {', '.join(PRESETS)}")
    return Model(ModelConfig(vocab_size=vocab_size, block_size=block_size, **{**PRESETS[preset], **overrides}))
