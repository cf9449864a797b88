"""Loading and saving GPT-2 chat models: the only place that knows where weights come from.

`load_model(source)` accepts:
- a KerasHub preset name, e.g. `gpt2_base_en` (downloaded from Kaggle on first use);
- `hf://USER/NAME` (a KerasHub preset on the Hugging Face Hub);
- `kaggle://OWNER/MODEL/keras/VARIANT[/VERSION]`;
- a local directory written by `save_model` (or KerasHub's `save_to_preset`).

A directory written by `save_model` also holds the chat format (`ariane_chat_format.json`) and
the config that produced it (`ariane_config.json`); loading reads them back. Without network the
load fails fast with `ModelUnavailable`, whose message says what to do.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ariane.prompt import DEFAULT_FORMAT, FORMAT_FILE, ChatFormat

CONFIG_FILE = "ariane_config.json"


class ModelUnavailable(RuntimeError):
    """No GPT-2 could be loaded from the requested source."""


@dataclass
class ChatModel:
    """A loaded causal LM with the tokenizer and chat format it was trained with.

    Args:
        lm: keras_hub.models.GPT2CausalLM. The network.
        tokenizer: ariane.tokenizer.Tokenizer. Its tokenizer.
        chat_format: ariane.prompt.ChatFormat. How to prompt it.
        model_id: str. A short name shown in replies' metadata and feedback.
        config: dict. The config that produced the model (empty for base presets).
        source: str. Where the weights were read from: a local folder (a preset folder, or the Hub
            cache's copy of an hf:// model read offline), `hf://USER/NAME`, a preset name; "" when
            built in memory. `ariane.litert_convert` looks there for a converted model shipped with it.
    """

    lm: object
    tokenizer: object
    chat_format: ChatFormat = DEFAULT_FORMAT
    model_id: str = "unknown"
    config: dict = field(default_factory=dict)
    source: str = ""

    @property
    def max_sequence_length(self) -> int:
        return int(self.lm.backbone.max_sequence_length)


def _offline_message(source: str, reason: str) -> str:
    return (
        f"cannot load GPT-2 from {source!r}: {reason}. "
        "This machine may have no network. On a connected machine run "
        f"`python -c \"import keras_hub; keras_hub.models.GPT2CausalLM.from_preset('{source}')"
        ".save_to_preset('gpt2_local')\"`, copy the folder here and set ARIANE_MODEL=/path/to/gpt2_local "
        "(or pass --model /path/to/gpt2_local). Without a model Ariane answers from the knowledge base only."
    )


def _host_resolves(host: str, timeout: float = 2.0) -> bool:
    old = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(timeout)
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(old)


def _read_optional(source: str, name: str) -> str | None:
    """A small file beside the weights, for local dirs and hub presets alike; None if absent."""
    if os.path.isdir(source):
        path = Path(source) / name
        return path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        from keras_hub.src.utils.preset_utils import get_file

        return Path(get_file(source, name)).read_text(encoding="utf-8")
    except Exception:  # the file is optional: base presets have none
        return None


def _hub_cache_or_raise(source: str) -> str:
    """The locally cached snapshot of an hf:// preset, without touching the network (which would
    retry for ~25 s); ModelUnavailable if it was never downloaded."""
    repo_id = source[len("hf://") :].strip("/")
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception as exc:  # not in the cache (LocalEntryNotFoundError) or a malformed id
        raise ModelUnavailable(_offline_message(source, "huggingface.co cannot be reached and the model is not in the local Hub cache")) from exc


def describe_source(source: str) -> str:
    """A short model id for metadata: the folder name or the preset handle."""
    p = Path(source)
    if p.is_dir():
        meta = p / CONFIG_FILE
        if meta.is_file():
            try:
                run = json.loads(meta.read_text(encoding="utf-8")).get("run_name")
                if run:
                    return str(run)
            except json.JSONDecodeError:
                pass
        return p.resolve().name
    return source


RANDOM_MODELS = {  # `random:NAME` sources: random weights, real tokenizer (tests, smoke runs, speed)
    "random:tiny": dict(num_layers=2, num_heads=2, hidden_dim=64, intermediate_dim=128, max_sequence_length=512),
    "random:124m": dict(num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072, max_sequence_length=1024),
}


def load_model(source: str, seed: int = 0, dtype: str | None = None) -> ChatModel:
    """Load a GPT-2 chat model from a preset name, `hf://`, `kaggle://` or a local directory.

    `random:tiny` and `random:124m` build a GPT-2 with random weights (`seed`) instead. `dtype` (e.g.
    "mixed_bfloat16", for training) overrides the compute dtype recorded in the preset.

    Raises:
        ModelUnavailable: offline, missing directory, or not a GPT-2 preset; the message says what to do.

    Example:
        >>> model = load_model("var/models/current")  # doctest: +SKIP
    """
    source = requested = str(source).strip()
    if not source or source.lower() == "none":
        raise ModelUnavailable("no model configured (ARIANE_MODEL=none): answering from the knowledge base only")
    if source.startswith("random:"):
        if source not in RANDOM_MODELS:
            raise ModelUnavailable(f"unknown random model {source!r}: use {' or '.join(RANDOM_MODELS)}")
        return build_model(**RANDOM_MODELS[source], seed=seed, model_id=f"gpt2-{source.split(':')[1]}-random")
    looks_local = source.startswith((".", "/", "~")) or os.sep in source and "://" not in source
    if looks_local or os.path.exists(source):
        path = Path(source).expanduser()
        if not path.is_dir():
            raise ModelUnavailable(
                f"model directory {str(path)!r} does not exist. Train one with `python -m finetune` and "
                "promote it with `python -m finetune promote --best`, or set ARIANE_MODEL to a preset."
            )
        if not (path / "config.json").is_file():
            raise ModelUnavailable(
                f"{str(path)!r} is not a KerasHub preset (no config.json). Point ARIANE_MODEL at a folder "
                "written by `python -m finetune` or `save_to_preset`."
            )
        source = str(path)
    elif source.startswith("hf://") and not _host_resolves("huggingface.co"):
        source = _hub_cache_or_raise(source)  # offline: the local Hub cache, or a clear error now
    elif source.startswith("kaggle://") or "://" not in source:
        pass  # Kaggle fails fast offline
    try:
        import keras_hub

        lm = keras_hub.models.GPT2CausalLM.from_preset(source, **({"dtype": dtype} if dtype else {}))
    except Exception as exc:  # network errors, missing files, wrong architecture
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__
        if os.path.isdir(source):
            raise ModelUnavailable(f"cannot load the model in {source!r} ({reason}); is it a GPT-2 preset?") from exc
        raise ModelUnavailable(_offline_message(source, reason)) from exc

    from ariane.tokenizer import Tokenizer

    fmt_text = _read_optional(source, FORMAT_FILE)
    chat_format = ChatFormat.from_dict(json.loads(fmt_text)) if fmt_text else DEFAULT_FORMAT
    cfg_text = _read_optional(source, CONFIG_FILE)
    config = json.loads(cfg_text) if cfg_text else {}
    model_id = requested if "://" in requested else describe_source(source)
    where = str(Path(source).resolve()) if os.path.isdir(source) else source
    return ChatModel(lm, Tokenizer(lm.preprocessor.tokenizer), chat_format, model_id, config, where)


def save_model(model: ChatModel, directory, config: dict | None = None) -> Path:
    """Write a KerasHub preset plus Ariane's chat format and config; `load_model(directory)` reads it back."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.lm.save_to_preset(str(directory))
    _float32_policies(directory)
    model.chat_format.save(directory)
    cfg = dict(model.config if config is None else config)
    (directory / CONFIG_FILE).write_text(json.dumps(cfg, indent=2, default=str) + "\n", encoding="utf-8")
    return directory


def _float32_policies(directory: Path) -> None:
    """Serve a preset in float32 even when it was trained under a mixed-precision policy
    (`finetune` `runtime.precision`): its weights are float32 already, only the layers' recorded
    compute dtype changes, so the served model computes exactly as the untrained base did."""

    def fix(node) -> bool:
        changed = False
        if isinstance(node, dict):
            conf = node.get("config")
            if node.get("class_name") == "DTypePolicy" and isinstance(conf, dict) and str(conf.get("name", "")).startswith("mixed_"):
                conf["name"] = "float32"
                changed = True
            for value in node.values():
                changed = fix(value) or changed
        elif isinstance(node, list):
            for value in node:
                changed = fix(value) or changed
        return changed

    for path in directory.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        if '"mixed_' in text:
            data = json.loads(text)
            if fix(data):
                path.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")


def build_model(
    num_layers: int = 2,  # transformer blocks (GPT-2 124M: 12)
    num_heads: int = 2,  # attention heads (124M: 12)
    hidden_dim: int = 64,  # width (124M: 768)
    intermediate_dim: int = 128,  # MLP width (124M: 3072)
    max_sequence_length: int = 512,  # context window in tokens (124M: 1024)
    seed: int = 0,  # weight initialisation seed
    model_id: str | None = None,
) -> ChatModel:
    """A randomly initialised GPT-2 with the real GPT-2 tokenizer: tiny for tests, full size for speed.

    Example:
        >>> tiny = build_model()                      # 2 layers, ~3.3M parameters (mostly embeddings)
        >>> full = build_model(12, 12, 768, 3072, 1024)  # the exact 124M architecture
    """
    import keras
    import keras_hub

    from ariane.tokenizer import Tokenizer

    keras.utils.set_random_seed(seed)
    tokenizer = Tokenizer.default()
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=tokenizer.vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        max_sequence_length=max_sequence_length,
    )
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer.keras_tokenizer, sequence_length=128)
    lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)
    name = model_id or f"gpt2-random-{num_layers}l-{hidden_dim}d"
    return ChatModel(lm, tokenizer, DEFAULT_FORMAT, name, {"architecture": {
        "num_layers": num_layers, "num_heads": num_heads, "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim, "max_sequence_length": max_sequence_length, "seed": seed}})


def gpt2_124m(seed: int = 0) -> ChatModel:
    """The exact GPT-2 124M architecture with random weights (speed does not depend on weight values)."""
    return build_model(**RANDOM_MODELS["random:124m"], seed=seed, model_id="gpt2-124m-random")
