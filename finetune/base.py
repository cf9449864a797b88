"""The model a run starts from, and which of its weights it trains.

`load_base("random:tiny")` builds a 2-layer GPT-2 with random weights (tests, smoke runs) and
`random:124m` the full GPT-2 architecture with random weights (benchmarks); anything else goes to
`ariane.model.load_model` (preset name, hf://, kaggle://, a local preset folder).

LoRA: Keras's `enable_lora` on the attention's query and value projections freezes their kernel
and adds two small trainable matrices A (d×r, He-uniform) and B (r×d, zeros), so training starts
exactly at the base model. Saving merges them: `kernel + (alpha / r) · A·B` is what
`save_to_preset` writes, so the exported preset is a plain GPT-2 that `load_model` serves at full
speed with no adapter code. `lora.layers = N` adapts only the last N blocks: backpropagation then
stops at the lowest adapted block, which is the main speed lever on CPU.
"""

from __future__ import annotations


def load_base(base: str, seed: int = 0, dtype: str | None = None):
    """A `ChatModel` to fine-tune: `random:tiny`, `random:124m`, or any source `load_model` accepts.

    `dtype`: the compute dtype policy (`runtime.precision`); random bases take Keras's global one.
    Raises ariane.model.ModelUnavailable (offline, unknown random base) with what to do."""
    from ariane.model import load_model

    return load_model(base, seed=seed, dtype=dtype)


def transformer_blocks(backbone) -> list:
    return list(backbone.transformer_layers)


def enable_lora(backbone, rank: int, alpha: float = 0.0, layers: int = 0, targets=("query", "value")) -> int:
    """Freeze the backbone and add rank-`rank` adapters to `targets` in the last `layers` blocks (0 = all).

    Returns the number of adapted projections.
    """
    blocks = transformer_blocks(backbone)
    chosen = blocks if layers <= 0 else blocks[-layers:]
    backbone.trainable = True
    for layer in backbone._flatten_layers(include_self=False):
        layer.trainable = False
    adapted = 0
    for block in chosen:
        for layer in block._flatten_layers(include_self=False):
            if layer.name in targets and hasattr(layer, "enable_lora"):
                layer.trainable = True
                layer.enable_lora(rank, lora_alpha=alpha or None)
                adapted += 1
    if not adapted:
        raise ValueError(f"lora.targets {list(targets)} matched no layer of the backbone; GPT-2's attention has query, key, value, attention_output")
    return adapted


def freeze_embeddings(backbone) -> None:
    """Keep token and position embeddings fixed (GPT-2 ties the token embedding to the output layer)."""
    backbone.token_embedding.trainable = False
    backbone.position_embedding.trainable = False


def count_weights(variables) -> int:
    import numpy as np

    return int(sum(np.prod(v.shape) for v in variables))


def prepare(model, cfg) -> dict:
    """Set what `cfg` trains on `model`'s backbone; returns counts for the log and the card."""
    backbone = model.lm.backbone
    total = count_weights(backbone.weights)
    adapted = 0
    if cfg.method == "lora":
        adapted = enable_lora(backbone, cfg.lora.rank, cfg.lora.alpha, cfg.lora.layers, cfg.lora.targets)
    elif cfg.train.freeze_embeddings:
        freeze_embeddings(backbone)
    trainable = count_weights(model.lm.trainable_variables)
    return {"weights": total, "trainable_weights": trainable, "lora_projections": adapted}
