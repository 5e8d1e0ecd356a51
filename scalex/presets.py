"""
The model's settings and its preset sizes: torch-free, so that a run's config is checked
(scalex/checks.py) before torch loads; model.py builds the model from them.
"""
from dataclasses import dataclass


@dataclass
class ModelConfig:
    vocab_size: int = 4096
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int = 4      # < n_head: grouped-query attention
    d_model: int = 128
    d_ff: int = 0           # 0: SwiGLU's usual 8/3 * d_model rounded up to a multiple of 64
    block_size: int = 128
    rope_theta: float = 10000.0
    tie_embeddings: bool = False


# Sizes from a CPU smoke test to ~1B. Parameter counts at vocab 50k are in the comments.
PRESETS = {
    "tiny": dict(n_layer=2, n_head=4, n_kv_head=4, d_model=128),                 # CPU quickstart
    "small": dict(n_layer=4, n_head=4, n_kv_head=4, d_model=256),                # CPU, ~30M
    "mini": dict(n_layer=6, n_head=8, n_kv_head=8, d_model=512),                 # one GPU, ~10 min sweeps (config/mini)
    "124m": dict(n_layer=12, n_head=12, n_kv_head=12, d_model=768),              # GPT-2 small size
    "350m": dict(n_layer=24, n_head=16, n_kv_head=16, d_model=1024),
    "1b": dict(n_layer=16, n_head=32, n_kv_head=8, d_model=2048, d_ff=8192),     # Llama-3.2-1B shape
}
