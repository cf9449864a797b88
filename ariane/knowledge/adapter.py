"""The retrieval adapter: low-rank (LoRA) corrections to MiniLM's dense layers, learnt from the
curated phrasings by `python -m data encoder --train` (ariane.knowledge.tune).

Retrieval embeds with MiniLM + this adapter (crisis detection reads another encoder,
multilingual-e5: ariane.knowledge.e5). The adapted model shares the base's
weights and adds `(x @ A) @ B` to each adapted layer's output (`MiniLM.adapted`), so a process
holds one copy of the 90 MB weights.

File format (`np.savez_compressed`):
- `<weight name>/A` (in, rank) and `<weight name>/B` (rank, out), float32, for each adapted dense
  layer (e.g. `encoder.layer.5.attention.self.query`); LoRA's alpha / rank and the cross-validated
  strength (`Adapter.scaled`) are folded into B;
- `meta`: a JSON string: the training config, the validation figures, the base model.

`id` hashes the arrays: vectors of the base model, or of another adapter, never share a cache key.

Example:
    >>> adapter = Adapter.load(ADAPTER_FILE)
    >>> adapter.id
    'lora-92c09c466a2e'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ariane.knowledge.scenario import DATA_DIR

ADAPTER_FILE = DATA_DIR / "minilm_adapter.npz"  # trained on every phrasing: what retrieval uses
VALIDATION_ADAPTER_FILE = DATA_DIR / "minilm_adapter_validation.npz"  # same recipe, one paraphrase per entry held out:
# what `python -m data retrieval --calibrate` picks the fusion weights with (on those held-out paraphrases)


@dataclass(frozen=True)
class Adapter:
    """Low-rank corrections for MiniLM's dense layers.

    Args:
        pairs: dict. Weight name -> (A (in, rank), B (rank, out)) float32 arrays, B pre-scaled.
        meta: dict. Training config and figures (stored as JSON).
    """

    pairs: dict
    meta: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        """`lora-` + 12 hex digits of the SHA-256 of the arrays (names, shapes and values)."""
        h = hashlib.sha256()
        for name in sorted(self.pairs):
            for part, array in zip("AB", self.pairs[name]):
                a = np.ascontiguousarray(array, dtype="<f4")
                h.update(f"{name}/{part}{a.shape}".encode())
                h.update(a.tobytes())
        return "lora-" + h.hexdigest()[:12]

    def scaled(self, strength: float) -> "Adapter":
        """This adapter with its correction scaled by `strength` (0 = the base model, 1 = unchanged),
        i.e. the weights interpolated toward the base; `meta["strength"]` records it."""
        return Adapter({n: (a, b * np.float32(strength)) for n, (a, b) in self.pairs.items()}, {**self.meta, "strength": strength})

    @classmethod
    def load(cls, path) -> "Adapter":
        path = Path(path)
        try:
            with np.load(path) as data:
                names = sorted({k.rsplit("/", 1)[0] for k in data.files if k != "meta"})
                pairs = {n: (data[n + "/A"].astype(np.float32), data[n + "/B"].astype(np.float32)) for n in names}
                meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a MiniLM adapter ({exc}); retrain it with `python -m data encoder --train`") from None
        return cls(pairs, meta)

    def save(self, path) -> Path:
        path = Path(path)
        arrays = {f"{n}/{part}": np.asarray(a, dtype="<f4") for n, (a_, b_) in self.pairs.items() for part, a in (("A", a_), ("B", b_))}
        np.savez_compressed(path, meta=np.array(json.dumps(self.meta, sort_keys=True)), **arrays)
        return path


def validation_split(entries, seed: int = 0) -> list[int]:
    """For each entry, the index in (question, *paraphrases) of the one paraphrase held out for
    validation: the adapter's cross-validation and the choice of fusion weights both use it."""
    rng = np.random.default_rng(seed)
    return [int(rng.integers(1, 1 + len(e.paraphrases))) for e in entries]


def without_validation(entries, held: list[int]) -> tuple[list, list[tuple[str, str]]]:
    """(entries minus their held-out paraphrase, [(held-out paraphrase, entry id)])."""
    kept, questions = [], []
    for e, j in zip(entries, held):
        kept.append(e.with_(paraphrases=tuple(p for i, p in enumerate(e.paraphrases, 1) if i != j)))
        questions.append((e.paraphrases[j - 1], e.id))
    return kept, questions
