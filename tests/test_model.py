"""model.py: shapes, per-token losses, causality, grouped-query attention, presets."""
import pytest
import torch

import kernels
from model import PRESETS, ModelConfig, Model, build_model


def _tiny(**kw):
    torch.manual_seed(0)
    return Model(ModelConfig(vocab_size=97, n_layer=2, n_head=4, n_kv_head=kw.pop("n_kv_head", 4), d_model=32, block_size=16, **kw))


def test_per_token_losses_shape_and_value():
    m = _tiny()
    x = torch.randint(0, 97, (3, 16))
    y = torch.randint(0, 97, (3, 16))
    losses = m(x, y)
    assert losses.shape == (3, 16) and losses.dtype == torch.float32
    # at init the model is close to uniform over the vocabulary
    assert abs(losses.mean().item() - torch.log(torch.tensor(97.0)).item()) < 0.1


def test_causal_no_peeking():
    m = _tiny()
    x = torch.randint(0, 97, (1, 16))
    y = torch.randint(0, 97, (1, 16))
    a = m(x, y)
    x2 = x.clone()
    x2[0, 10:] = (x2[0, 10:] + 1) % 97
    b = m(x2, y)
    assert torch.allclose(a[0, :10], b[0, :10]) and not torch.allclose(a[0, 10:], b[0, 10:])


def test_shorter_sequences_and_gqa():
    m = _tiny(n_kv_head=2)
    assert m(torch.randint(0, 97, (2, 7)), torch.randint(0, 97, (2, 7))).shape == (2, 7)
    assert m.blocks[0].attn.qkv.out_features == (4 + 2 * 2) * 8


def test_ignored_targets_have_zero_loss():
    m = _tiny()
    y = torch.randint(0, 97, (2, 16))
    y[:, -3:] = -100
    assert (m(torch.randint(0, 97, (2, 16)), y)[:, -3:] == 0).all()


def test_gradients_flow_everywhere():
    m = _tiny(tie_embeddings=True)
    m(torch.randint(0, 97, (2, 16)), torch.randint(0, 97, (2, 16))).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_model_calls_the_kernel_functions(monkeypatch):
    calls = []
    real_a, real_ce = kernels.attention, kernels.linear_cross_entropy
    monkeypatch.setattr(kernels, "attention", lambda *a: calls.append("attn") or real_a(*a))
    monkeypatch.setattr(kernels, "linear_cross_entropy", lambda *a, **k: calls.append("ce") or real_ce(*a, **k))
    _tiny()(torch.randint(0, 97, (1, 8)), torch.randint(0, 97, (1, 8)))
    assert calls == ["attn", "attn", "ce"]


@pytest.mark.parametrize("preset,lo,hi", [("124m", 110e6, 135e6), ("1b", 0.9e9, 1.3e9)])
def test_preset_sizes(preset, lo, hi):
    with torch.device("meta"):
        m = build_model(preset, 50304, 1024)
    assert lo < m.num_params() < hi, m.num_params()
    assert m.flops_per_token(1024) > 6 * m.num_params()


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        build_model("huge", 100, 16)
    assert "tiny" in PRESETS
