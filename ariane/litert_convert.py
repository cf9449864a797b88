"""Converting Ariane's decoder (`ariane.decoder`) to a LiteRT model, once per model.

`load_or_convert` finds the flatbuffer, in this order (files named by the weights' fingerprint,
which includes `ariane.decoder.GRAPH_VERSION`, and the precision, so a file converted from other
weights or by an older graph never matches):

1. shipped with the model: `<model folder>/litert/gpt2-<fingerprint>-<precision>.tflite`, or the
   same path in its `hf://` repo (downloaded; offline, only if the Hub cache already has it);
2. ARIANE_HOME/cache/litert, where earlier conversions were stored;
3. else it converts now (~35 s for GPT-2 124M on 2 cores) and stores the result in that cache.

Conversion goes through a SavedModel with the weights as variables, stored [out, in] (the LiteRT
converter reads variables from a SavedModel much faster than constants from a graph, and has no
constant to transpose): ~20 s of converter for GPT-2 124M on 2 cores instead of ~50 s. Big models
convert in a child process, so that the converter's transient memory (~4 GB) is not kept by the server.

`python -m finetune` writes the int8 file into every exported model (`export.litert`), so a
fine-tuned model is served without converting wherever it is promoted, pushed or copied. For a
model made elsewhere, or to convert the served model into the cache ahead of time:

    python -m ariane.litert_convert --model path/to/model --into-model   # into path/to/model/litert/
    python -m ariane.litert_convert --precision int8      # the served model, into ARIANE_HOME/cache/litert
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from ariane.decoder import DecoderWeights, serving_functions

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
MODEL_SUBDIR = "litert"  # converted models shipped inside a model folder: <model>/litert/<file_name(...)>


def file_name(fingerprint: str, precision: str) -> str:
    """The converted model's file name, in a model's litert/ folder and in the cache alike."""
    return f"gpt2-{fingerprint}-{precision}.tflite"


def default_cache_dir() -> Path:
    """ARIANE_HOME/cache/litert: converted models, named by weight fingerprint and precision."""
    from ariane.settings import Settings

    return Settings.from_env().home / "cache" / "litert"


def export(weights: DecoderWeights, directory) -> None:
    """Save the decoder's functions (`ariane.decoder.serving_functions`) and its weights, as
    variables shared by all of them, as a SavedModel."""
    import tensorflow as tf

    module = tf.Module()
    module.weights = []
    fns = serving_functions(weights, module.weights)
    module.fns = list(fns.values())  # tracked, so that the SavedModel keeps them
    tf.saved_model.save(module, str(directory), signatures={name: f.get_concrete_function() for name, f in fns.items()})


def convert_saved_model(directory, precision: str) -> bytes:
    """A LiteRT flatbuffer with one signature per function of `export`'s SavedModel, sharing the
    weights: 'prefill', 'decode' and 'step_0'..'step_{layers}'."""
    import tensorflow as tf

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory))
    if precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic range: int8 weights, no calibration data
    return converter.convert()


def convert(weights: DecoderWeights, precision: str) -> bytes:
    """`export` then `convert_saved_model`, in this process."""
    with tempfile.TemporaryDirectory(prefix="ariane-litert-") as tmp:
        export(weights, tmp)
        return convert_saved_model(tmp, precision)


SUBPROCESS_PARAMS = 20_000_000  # models this big convert in a child process: the converter peaks at ~10x the weights


def load_or_convert(weights: DecoderWeights, precision: str, cache_dir: Path | None, model_source: str | None = None) -> bytes:
    """The converted model: shipped with the model (`model_source`: its folder or hf:// repo, see
    `shipped_file`), else from `cache_dir`, else converted now and stored there (atomically)."""
    name = file_name(weights.fingerprint(), precision)
    shipped = shipped_file(model_source, name)
    if shipped is not None:
        log.info("LiteRT %s model shipped with the model: %s", precision, shipped)
        return shipped.read_bytes()
    path = Path(cache_dir) / name if cache_dir is not None else None
    if path is not None and path.is_file():
        log.info("LiteRT %s model from the cache: %s", precision, path)
        return path.read_bytes()
    t = time.perf_counter()
    blob = _convert(weights, precision)
    log.info("converted the model to LiteRT %s in %.1f s (%s)", precision, time.perf_counter() - t,
             "none shipped with the model, none cached" if model_source else "none cached")
    if path is not None:
        try:
            _write_atomically(path, blob)
        except OSError as exc:  # a read-only home only costs the next start a conversion
            log.warning("cannot cache the converted model in %s: %s", path.parent, exc)
    return blob


def shipped_file(source: str | None, name: str) -> Path | None:
    """`litert/<name>` shipped with a model, or None. `source` is `ChatModel.source`: a local folder
    (read in place) or `hf://USER/NAME` (downloaded, or taken from the Hub cache when
    huggingface.co does not resolve); other sources (preset names) ship nothing."""
    if not source:
        return None
    if source.startswith("hf://"):
        return _hub_file(source[len("hf://") :].strip("/"), f"{MODEL_SUBDIR}/{name}")
    folder = Path(source) / MODEL_SUBDIR
    if (folder / name).is_file():
        return folder / name
    others = sorted(p.name for p in folder.glob(f"gpt2-*-{name.rsplit('-', 1)[-1]}"))
    if others:  # shipped, but not for these weights (another model, or an older GRAPH_VERSION)
        log.warning("ignoring %s in %s: converted from other weights or by an older Ariane. Replace it with "
                    "`python -m ariane.litert_convert --model %s --into-model`", ", ".join(others), folder, source)
    return None


def _hub_file(repo: str, filename: str) -> Path | None:
    from ariane.model import _host_resolves  # the core's one DNS check: offline, no 25 s of retries

    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo, filename, local_files_only=not _host_resolves("huggingface.co")))
    except Exception as exc:  # not shipped (404), offline and never downloaded, no access: convert instead
        log.info("no %s in hf://%s (%s)", filename, repo, type(exc).__name__)
        return None


def write_into_model(model_dir, precisions=("int8",)) -> list[Path]:
    """Convert the preset in `model_dir` and store the files in `model_dir/litert/`, so that it is
    served without converting wherever the folder goes. Files there converted from other weights
    or by an older graph are removed (they can never be used). Returns the files written or kept.

    The weights are read back from the folder, as the server will read them, so the file name
    carries the fingerprint the server computes.

    Example:
        >>> write_into_model("var/runs/20261123-101500-smoke/model")   # doctest: +SKIP
        [PosixPath('var/runs/20261123-101500-smoke/model/litert/gpt2-3f...-int8.tflite')]
    """
    from ariane.model import load_model

    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        raise ValueError(f"LiteRT precision(s) {', '.join(map(repr, bad))}: use {' or '.join(PRECISIONS)}")
    model_dir = Path(model_dir)
    weights = DecoderWeights.from_backbone(load_model(str(model_dir)).lm.backbone)
    fingerprint = weights.fingerprint()
    out = []
    for precision in dict.fromkeys(precisions):
        path = model_dir / MODEL_SUBDIR / file_name(fingerprint, precision)
        if not path.is_file():
            t = time.perf_counter()
            _write_atomically(path, _convert(weights, precision))
            log.info("wrote %s (%.1f s)", path, time.perf_counter() - t)
        out.append(path)
    for stale in (model_dir / MODEL_SUBDIR).glob("gpt2-*.tflite"):
        if not stale.name.startswith(f"gpt2-{fingerprint}-"):
            stale.unlink()
            log.info("removed %s: converted from other weights or by an older Ariane", stale)
    return out


def _convert(weights: DecoderWeights, precision: str) -> bytes:
    return _convert_in_child(weights, precision) if weights.num_params > SUBPROCESS_PARAMS else convert(weights, precision)


def _write_atomically(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as f:
        f.write(blob)
    os.chmod(f.name, 0o644)  # NamedTemporaryFile makes it 0600: a model folder is copied, pushed, read by another user
    os.replace(f.name, path)


def _convert_in_child(weights: DecoderWeights, precision: str) -> bytes:
    """`convert` with the conversion proper in a fresh Python: the converter's transient memory
    (~4 GB for GPT-2 124M) is returned to the system when it exits, not kept by the server."""
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="ariane-litert-") as tmp:
        out = Path(tmp) / "model.tflite"
        export(weights, Path(tmp) / "saved")
        code = "import sys; sys.path.insert(0, sys.argv[1]); from ariane.litert_convert import _convert_file; _convert_file(*sys.argv[2:])"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        p = subprocess.run([sys.executable, "-c", code, root, str(Path(tmp) / "saved"), precision, str(out)], capture_output=True, text=True, env=env)
        if p.returncode != 0 or not out.is_file():
            raise RuntimeError(f"converting the model to LiteRT {precision} failed: {p.stderr.strip()[-2000:]}")
        return out.read_bytes()


def _convert_file(saved_model: str, precision: str, out: str) -> None:
    Path(out).write_bytes(convert_saved_model(saved_model, precision))


def main(argv=None) -> int:
    """`python -m ariane.litert_convert [--model SOURCE] [--precision int8] [--into-model]`: convert
    ahead of time, into the cache (e.g. when building a deploy image) or into the model's folder."""
    import argparse

    from ariane.model import load_model
    from ariane.settings import Settings

    p = argparse.ArgumentParser(description="Convert the served model for Ariane's LiteRT runtime, into the cache or into the model's folder.")
    p.add_argument("--model", help="preset, hf://, or a model folder (default: the served model, as the app picks it)")
    p.add_argument("--precision", default="int8", help="comma-separated, from: " + ", ".join(PRECISIONS))
    p.add_argument("--into-model", action="store_true",
                   help="write into the model folder's litert/ (it then goes with the folder: promote, push, copy) instead of ARIANE_HOME/cache/litert")
    a = p.parse_args(argv)
    source = a.model or Settings.from_env().served_model()
    precisions = [x.strip() for x in a.precision.split(",") if x.strip()]
    if a.into_model:
        if not (Path(source) / "config.json").is_file():
            p.error(f"--into-model writes into a model folder, and {source!r} is not one (no config.json). "
                    "Pass --model path/to/folder (an hf:// model: download it first with `hf download USER/NAME --local-dir DIR`, then push DIR)")
        try:
            paths = write_into_model(source, precisions)
        except ValueError as exc:
            p.error(str(exc))
        for path in paths:
            print(f"ready: {path}")
        return 0
    weights = DecoderWeights.from_backbone(load_model(source).lm.backbone)
    for precision in precisions:
        t = time.perf_counter()
        load_or_convert(weights, precision, default_cache_dir())
        print(f"{precision}: ready in {default_cache_dir()} ({time.perf_counter() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
