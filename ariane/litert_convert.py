"""Converting Ariane's decoder (`ariane.decoder`) to a LiteRT model, once per model.

`load_or_convert` returns the flatbuffer from ARIANE_HOME/cache/litert (files named by the
weights' fingerprint and the precision), or converts and stores it. Conversion goes through a
SavedModel with the weights as variables, stored [out, in] (the LiteRT converter reads variables
from a SavedModel much faster than constants from a graph, and has no constant to transpose):
~20 s of converter for GPT-2 124M on 2 cores instead of ~50 s. Big models convert in a child
process, so that the converter's transient memory (~4 GB) is not kept by the server.

Convert ahead of time (a deploy image, a freshly promoted model) so that the app's first start
does not pay for it:

    python -m ariane.litert_convert --precision int8      # the served model, as the app picks it
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from ariane.decoder import DecoderWeights, decoder_functions

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")


def default_cache_dir() -> Path:
    """ARIANE_HOME/cache/litert: converted models, named by weight fingerprint and precision."""
    from ariane.settings import Settings

    return Settings.from_env().home / "cache" / "litert"


def export(weights: DecoderWeights, directory) -> None:
    """Save the decoder's two functions and its weights (as variables) as a SavedModel."""
    import tensorflow as tf

    module = tf.Module()
    module.weights = []
    prefill, decode = decoder_functions(weights, module.weights)
    module.prefill, module.decode = prefill, decode
    sigs = {"prefill": prefill.get_concrete_function(), "decode": decode.get_concrete_function()}
    tf.saved_model.save(module, str(directory), signatures=sigs)


def convert_saved_model(directory, precision: str) -> bytes:
    """A LiteRT flatbuffer with signatures 'prefill' and 'decode' from `export`'s SavedModel."""
    import tensorflow as tf

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory), signature_keys=["prefill", "decode"])
    if precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic range: int8 weights, no calibration data
    return converter.convert()


def convert(weights: DecoderWeights, precision: str) -> bytes:
    """`export` then `convert_saved_model`, in this process."""
    with tempfile.TemporaryDirectory(prefix="ariane-litert-") as tmp:
        export(weights, tmp)
        return convert_saved_model(tmp, precision)


SUBPROCESS_PARAMS = 20_000_000  # models this big convert in a child process: the converter peaks at ~10x the weights


def load_or_convert(weights: DecoderWeights, precision: str, cache_dir: Path | None) -> bytes:
    """The converted model from `cache_dir` if there, else convert and store it (atomically)."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"gpt2-{weights.fingerprint()}-{precision}.tflite"
        if path.is_file():
            return path.read_bytes()
    t = time.perf_counter()
    blob = _convert_in_child(weights, precision) if weights.num_params > SUBPROCESS_PARAMS else convert(weights, precision)
    log.info("converted the model to LiteRT %s in %.1f s", precision, time.perf_counter() - t)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as f:
                f.write(blob)
            os.replace(f.name, path)
        except OSError as exc:  # a read-only home only costs the next start a conversion
            log.warning("cannot cache the converted model in %s: %s", path.parent, exc)
    return blob


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
    """`python -m ariane.litert_convert [--model SOURCE] [--precision int8]`: convert ahead of
    time (e.g. when building a deploy image), so that the app's first start finds the model."""
    import argparse

    from ariane.model import load_model
    from ariane.settings import Settings

    p = argparse.ArgumentParser(description="Convert the served model for Ariane's LiteRT runtime and cache it.")
    p.add_argument("--model", help="preset, hf://, or a model folder (default: the served model, as the app picks it)")
    p.add_argument("--precision", default="int8", help="comma-separated, from: " + ", ".join(PRECISIONS))
    a = p.parse_args(argv)
    model = load_model(a.model or Settings.from_env().served_model())
    weights = DecoderWeights.from_backbone(model.lm.backbone)
    for precision in a.precision.split(","):
        t = time.perf_counter()
        load_or_convert(weights, precision, default_cache_dir())
        print(f"{precision}: ready in {default_cache_dir()} ({time.perf_counter() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
