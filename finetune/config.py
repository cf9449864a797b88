"""The fine-tuning config: typed sections, a commented default on every field.

A YAML file sets any field; `--key value` on the command line overrides it (`--train.epochs 1`,
or just `--epochs 1` when the name is unique). The resolved config is written to each run's
`config.yaml`, and `--resume RUN` reads it back.

Example:
    >>> cfg = load_config(None, ["--base", "random:tiny", "--train.epochs", "2", "--lora.rank", "8"])
    >>> cfg.base, cfg.train.epochs, cfg.lora.rank
    ('random:tiny', 2, 8)
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

METHODS = ("lora", "full")
BATCHING = ("bucket", "pack", "pad")
DECAYS = ("cosine", "linear", "constant")
STRATEGIES = ("none", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_bfloat16")
LITERT_PRECISIONS = ("int8", "fp32")  # ariane.litert_convert.PRECISIONS (not imported: reading a config loads no TensorFlow)


class ConfigError(ValueError):
    """A config file or override that does not fit `FinetuneConfig`."""


def _check(value, allowed, name):
    if value not in allowed:
        raise ConfigError(f"{name} is {value!r}; use one of {', '.join(allowed)}")


@dataclass
class DataConfig:
    version: str = "latest"  # ARIANE_HOME/datasets/<version>/ from `python -m data build`; "latest" = newest there; or a folder path
    sequence_length: int = 512  # most tokens per training row; longer dialogues lose their oldest turns (≤ the model's context, 1024 for GPT-2)
    batching: str = "bucket"  # "bucket": dialogues of similar length batched together; "pack": whole dialogues packed into full rows; "pad": every row padded to the longest (baseline)
    pad_to_multiple: int = 16  # bucket widths are rounded up to this many tokens (fewer distinct shapes to compile)
    bucket_pool: int = 32  # "bucket": sort by length within pools of this many batches, then shuffle the batches (randomness vs padding)
    limit_train: int = 0  # use only the first N training dialogues (0 = all): smoke runs and tests
    limit_validation: int = 0  # use only the first N validation dialogues (0 = all)

    def __post_init__(self):
        _check(self.batching, BATCHING, "data.batching")
        if self.sequence_length < 16:
            raise ConfigError(f"data.sequence_length is {self.sequence_length}; a dialogue needs at least 16 tokens")


@dataclass
class LoraConfig:
    rank: int = 4  # r: Keras adapts a 768 → 12 heads × 64 projection with A (768×12×r) and B (r×64): 37,120 weights at r=4; ×24 projections = 0.89M of 124M
    alpha: float = 0.0  # the update is scaled by alpha / rank; 0 = rank (scale 1, Keras's default)
    layers: int = 0  # adapt only the last N transformer blocks (0 = all); no gradient flows below the lowest adapted block
    targets: tuple = ("query", "value")  # attention projections that get adapters (KerasHub's default for GPT-2)


@dataclass
class TrainConfig:
    epochs: int = 3  # passes over the training split (early stopping may end sooner)
    batch_size: int = 8  # dialogues (or packed rows) per optimizer step, over all replicas together
    learning_rate: float = 2e-4  # peak learning rate after warm-up (LoRA: 1e-4..1e-3; full fine-tuning: 1e-5..5e-5)
    warmup_steps: int = 20  # linear warm-up from 0 to learning_rate over this many optimizer steps
    decay: str = "cosine"  # after warm-up: "cosine" or "linear" down to learning_rate × min_lr_ratio at the last step, or "constant"
    min_lr_ratio: float = 0.1  # the decay ends at learning_rate × this (nanoGPT: min_lr = lr / 10)
    weight_decay: float = 0.01  # AdamW decoupled weight decay on matrices; biases and LayerNorm scales are not decayed
    beta_1: float = 0.9  # AdamW first-moment decay
    beta_2: float = 0.99  # AdamW second-moment decay (0.99: small data, few steps; nanoGPT uses 0.95 at scale)
    clip_norm: float = 1.0  # global-norm gradient clipping over all trainable weights (0 = off)
    freeze_embeddings: bool = False  # full fine-tuning: keep token and position embeddings fixed (38.6M + 0.8M of GPT-2's 124M weights; the tied output layer too)
    early_stopping_patience: int = 2  # stop after this many epochs without a lower validation loss (0 = never stop early)

    def __post_init__(self):
        _check(self.decay, DECAYS, "train.decay")
        if self.batch_size < 1 or self.epochs < 1:
            raise ConfigError("train.batch_size and train.epochs must be at least 1")


@dataclass
class RuntimeConfig:
    strategy: str = "none"  # data parallelism: "none", "mirrored" (all GPUs, or all logical CPUs, of this machine) or "multi_worker" (machines listed in TF_CONFIG)
    cpu_devices: int = 0  # split the CPU into this many logical devices before TensorFlow starts (test "mirrored" on one CPU; 0 = off)
    jit_compile: bool = False  # compile the train step with XLA: a win on GPU; on the 2-core CPU see bench/RESULTS.md
    precision: str = "float32"  # "mixed_bfloat16": bf16 matmuls, float32 weights and optimizer (1.3x LoRA tokens/s on a CPU with AVX512_BF16, bench/RESULTS.md; slower without it); the exported preset is float32
    steps_per_execution: int = 1  # optimizer steps per call into the compiled function (fewer Python round trips)
    log_every: int = 10  # optimizer steps between progress lines and metrics.jsonl rows
    keep_checkpoints: int = 2  # epoch checkpoints kept (the best one is always kept too)


@dataclass
class ExportConfig:
    litert: tuple = ("int8",)  # LiteRT files converted into model/litert/ at export, so the page serves the model without converting on its first start (~35 s for GPT-2 124M, ~2 s for random:tiny); int8 is what the page serves, add fp32 for ARIANE_PRECISION=fp32; [] = none (the server converts once and caches)

    def __post_init__(self):
        for precision in self.litert:
            _check(precision, LITERT_PRECISIONS, "export.litert")


@dataclass
class FinetuneConfig:
    """Everything one fine-tuning run needs; written to `config.yaml` in the run directory."""

    name: str = "run"  # run directory: ARIANE_HOME/runs/<YYYYmmdd-HHMMSS>-<name>/
    base: str = "gpt2_base_en"  # preset name, hf://USER/NAME, kaggle://..., a local preset folder, or random:tiny / random:124m (random weights)
    method: str = "lora"  # "lora": adapters on a frozen base, merged into it for serving; "full": every weight trained
    seed: int = 1337  # weight init (random bases, LoRA A matrices), dropout and data order
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def __post_init__(self):
        _check(self.method, METHODS, "method")
        _check(self.runtime.strategy, STRATEGIES, "runtime.strategy")
        _check(self.runtime.precision, PRECISIONS, "runtime.precision")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lora"]["targets"] = list(self.lora.targets)
        d["export"]["litert"] = list(self.export.litert)
        return d


# ---- reading and overriding --------------------------------------------------------------------
def _coerce(value, typ, key):
    """Cast a YAML or command-line value to a field's type, with an error naming the key."""
    origin = typing.get_origin(typ)
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if typ is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"not an integer: {value!r}")
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
        if typ is float:
            return float(value)
        if typ is str:
            return str(value)
        if typ is tuple or origin is tuple:
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            return tuple(str(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from None
    return value


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _build(cls, data: dict, prefix: str = ""):
    data = dict(data or {})
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; known: {', '.join(sorted(known))}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            if not isinstance(data[f.name], dict):
                raise ConfigError(f"{prefix}{f.name}: expected a section of keys, got {data[f.name]!r}")
            kwargs[f.name] = _build(typ, data[f.name], f"{prefix}{f.name}.")
        else:
            kwargs[f.name] = _coerce(data[f.name], typ, prefix + f.name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{prefix or 'config'}: {exc}") from None


def _resolve_key(key: str) -> list[str]:
    """`train.epochs` → ['train', 'epochs']; a bare `epochs` is looked up in the sections."""
    parts = key.replace("-", "_").split(".")
    top = {f.name: f for f in dataclasses.fields(FinetuneConfig)}
    if len(parts) > 1 or parts[0] in top:
        return parts
    owners = [name for name, f in top.items() if dataclasses.is_dataclass(f.default_factory) and parts[0] in {g.name for g in dataclasses.fields(f.default_factory)}]
    if len(owners) == 1:
        return [owners[0], parts[0]]
    if len(owners) > 1:
        raise ConfigError(f"--{key} is ambiguous; write one of " + ", ".join(f"--{o}.{parts[0]}" for o in owners))
    raise ConfigError(f"unknown option --{key}; see the fields in finetune/config.py")


def parse_overrides(args: list[str]) -> dict:
    """`['--train.epochs', '2', '--jit_compile=true']` → nested dict of raw values."""
    out: dict = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise ConfigError(f"expected --key value, got {arg!r}")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise ConfigError(f"--{key} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        node = out
        path = _resolve_key(key)
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for k, v in extra.items():
        merged[k] = _merge(merged.get(k) or {}, v) if isinstance(v, dict) else v
    return merged


def load_config(path=None, overrides: list[str] | None = None, base: dict | None = None) -> FinetuneConfig:
    """A `FinetuneConfig` from a YAML file (or `base` dict), then `--key value` overrides."""
    import yaml

    data = dict(base or {})
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found; the shipped ones are in finetune/configs/") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of config keys")
        data = _merge(data, loaded)
    data = _merge(data, parse_overrides(list(overrides or [])))
    return _build(FinetuneConfig, data)


def dump_config(cfg: FinetuneConfig, path) -> Path:
    """Write the resolved config as YAML (every field, defaults included)."""
    import yaml

    path = Path(path)
    path.write_text(
        "# Resolved fine-tuning config (defaults filled in); `python -m finetune --resume RUN` reads it back.\n"
        + yaml.safe_dump(cfg.to_dict(), sort_keys=False),
        encoding="utf-8",
    )
    return path
