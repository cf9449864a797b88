"""Retrieval over the approved knowledge entries: MiniLM cosine fused with BM25.

An entry is scored against a player's question with three signals, each in [0, 1]:
- `questions`: cosine to the mean vector of the entry's question and paraphrases;
- `answer`: cosine to the entry's answer (players often ask about something the answer says);
- `bm25`: BM25 over question + paraphrases + answer, squashed as s / (s + bm25_k).
The score is their weighted mean (weights in data/retrieval.json, tuned on the held-out
rewordings by `ariane.knowledge.calibrate`). A hit counts only above `threshold`, calibrated on
the held-out rewordings against data/heldout/out-of-scope.jsonl.

The index follows `KnowledgeBase.version`: an approved correction is searchable at the next
question. Vectors come from the embedding cache, so a rebuild embeds only new texts.
Without MiniLM the score is BM25 alone, against its own threshold.

Example:
    >>> retriever = Retriever(KnowledgeBase.open(settings), load_embedder(cache))
    >>> [(h.entry_id, round(h.score, 2)) for h in retriever.search("I can't switch off at night", k=2)]
    [('work-life-balance-003', 0.52), ('sleep-013', 0.49)]
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from ariane.knowledge.entries import Entry
from ariane.knowledge.scenario import DATA_DIR

log = logging.getLogger(__name__)

CONFIG_FILE = DATA_DIR / "retrieval.json"

# Words too common to tell entries apart (bm25s' English list plus question words).
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this "
    "to was will with i me my you your we our can do does did how what when where which who why would could should "
    "am been being have has had so just about any some its it's im i'm".split()
)
_SUFFIXES = ("ing", "edly", "ed", "ies", "es", "s", "ly")
# French: articles, pronouns, auxiliaries and question words (accents already removed).
STOPWORDS_FR = frozenset(
    "a au aux avec ce ces cet cette c ca d de des du dans elle elles en et est es etre eu il ils j je l la le les leur "
    "leurs lui m ma mais me mes moi mon n ne ni nos notre nous on ou par pas pour qu que qui quoi s sa se ses si son "
    "sur t ta te tes toi ton tu un une vos votre vous y suis sont ai as avons avez ont fait faire peut peux comment "
    "quand pourquoi quel quelle quels quelles est-ce c'est cest y'a ya tout tous toute toutes tres plus bien".split()
)
_SUFFIXES_FR = ("ements", "ement", "ations", "ation", "euses", "euse", "eux", "ees", "es", "ee", "er", "s", "x", "e")


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def tokenize(text: str, language: str = "en") -> list[str]:
    """Lower-case word stems for BM25: no stopwords, light suffix stripping (no data files needed).

    French drops accents and elisions ("l'épuisement" -> "epuis") before the same steps.
    """
    if language == "fr":
        words = re.findall(r"[a-z0-9]+", _strip_accents(text.casefold().replace("œ", "oe")))
        stopwords, suffixes = STOPWORDS_FR, _SUFFIXES_FR
    else:
        words = re.findall(r"[a-z0-9]+", text.casefold().replace("'", "").replace("’", ""))
        stopwords, suffixes = STOPWORDS, _SUFFIXES
    out = []
    for w in words:
        if w in stopwords or len(w) < 2:
            continue
        for suffix in suffixes:
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        out.append(w)
    return out


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion weights and thresholds; `data/retrieval.json` holds the calibrated values."""

    w_questions: float = 0.5  # weight of cosine to the centroid of question + paraphrases
    w_answer: float = 0.0  # weight of cosine to the answer (0: it did not help once entries had 7 paraphrases)
    w_bm25: float = 0.4  # weight of squashed BM25
    bm25_k: float = 5.0  # BM25 score that counts as 0.5 after squashing
    threshold: float = 0.41  # fused score below which a hit is not trusted (calibrated: 0.4142)
    bm25_threshold: float = 0.42  # the same for BM25-only mode, no MiniLM installed (calibrated: 0.4179)

    @classmethod
    def load(cls, path=CONFIG_FILE, language: str = "en") -> "RetrievalConfig":
        """Read the `config` of `language` in data/retrieval.json (`languages.<lang>.config`;
        English is the top-level `config`); defaults when the file or the language is missing."""
        path = Path(path)
        if not path.is_file():
            log.warning("%s not found: retrieval uses default weights; run `python -m data retrieval --calibrate`", path)
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if language != "en":
                if language not in data.get("languages", {}):
                    log.warning("%s has no weights for %r: default weights; run `python -m data retrieval --calibrate`", path, language)
                    return cls()
                data = data["languages"][language]
            data = data["config"]
            return cls(**{f.name: float(data[f.name]) for f in fields(cls) if f.name in data})
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a retrieval config ({exc}); regenerate it with `python -m data retrieval --calibrate`") from None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One entry found for a question."""

    entry_id: str
    score: float  # fused score in [0, 1]
    entry: Entry
    signals: dict  # the score's parts: questions, answer, bm25


class _Index:
    """The vectors and BM25 index of one KnowledgeBase version."""

    def __init__(self, entries: list[Entry], embedder, config: RetrievalConfig, language: str = "en"):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import: progress chatter
        self.entries = entries
        self.ids = [e.id for e in entries]
        self.language = language
        self.bm25 = None
        if entries:
            self.bm25 = bm25s.BM25()
            self.bm25.index([tokenize(" ".join(e.texts()), language) or [""] for e in entries], show_progress=False)
        self.centroids = self.answers = None
        if embedder is not None and entries:
            phrasings = [t for e in entries for t in (e.question, *e.paraphrases)]
            owners = np.repeat(np.arange(len(entries)), [1 + len(e.paraphrases) for e in entries])
            vectors = embedder.embed(phrasings + [e.answer for e in entries])
            centroids = np.zeros((len(entries), vectors.shape[1]), dtype=np.float32)
            np.add.at(centroids, owners, vectors[: len(phrasings)])
            self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
            self.answers = vectors[len(phrasings) :]

    def bm25_scores(self, query: str, k: float) -> np.ndarray:
        scores = np.zeros(len(self.entries), dtype=np.float32)
        if self.bm25 is not None:
            tokens = [t for t in tokenize(query, self.language) if t in self.bm25.vocab_dict]
            if tokens:
                scores = self.bm25.get_scores(tokens)
        return scores / (scores + k)


class Retriever:
    """Fused semantic + lexical search over a KnowledgeBase's approved entries of one language.

    Args:
        kb: KnowledgeBase. Followed through its `version`.
        embedder: Embedder | None. None = BM25 only.
        config: RetrievalConfig | None. Defaults to data/retrieval.json's for `language`.
        language: str. Only the entries in this language are indexed ("en" also takes entries
            that say no language).
    """

    def __init__(self, kb, embedder=None, config: RetrievalConfig | None = None, language: str = "en"):
        self.kb = kb
        self.embedder = embedder
        self.language = language
        self.config = config or RetrievalConfig.load(language=language)
        self._index: _Index | None = None
        self._version = -1
        self._lock = threading.Lock()

    @property
    def semantic(self) -> bool:
        return self.embedder is not None

    @property
    def threshold(self) -> float:
        return self.config.threshold if self.semantic else self.config.bm25_threshold

    def index(self) -> _Index:
        """The index of the base's current version, rebuilt when a mediator changed something."""
        version = self.kb.version
        if self._index is None or version != self._version:
            with self._lock:
                if self._index is None or version != self._version:
                    entries = [e for e in self.kb.approved() if (e.language or "en") == self.language]
                    self._index = _Index(entries, self.embedder, self.config, self.language)
                    self._version = version
        return self._index

    def score_matrix(self, queries: list[str], *, cache: bool = False) -> tuple[np.ndarray, dict]:
        """Fused scores (len(queries), entries) and each signal's matrix, in index order.

        Args:
            queries: list of str.
            cache: bool. Keep the queries' vectors in the embedding cache (calibration texts:
                yes; players' messages: no, they are not stored).
        """
        index, c = self.index(), self.config
        signals = {"bm25": np.stack([index.bm25_scores(q, c.bm25_k) for q in queries]) if queries else np.zeros((0, len(index.ids)))}
        if self.semantic and index.centroids is not None:
            vectors = self.embedder.embed(queries) if cache else self.embedder.model.embed(queries)
            signals["questions"] = np.clip(vectors @ index.centroids.T, 0.0, 1.0)
            signals["answer"] = np.clip(vectors @ index.answers.T, 0.0, 1.0)
            weights = {"questions": c.w_questions, "answer": c.w_answer, "bm25": c.w_bm25}
        else:
            weights = {"bm25": 1.0}
        total = sum(weights.values()) or 1.0
        fused = sum(w * signals[name] for name, w in weights.items()) / total
        return np.asarray(fused, dtype=np.float32), signals

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The `k` best approved entries for `query`, best first (thresholding is the caller's).

        Args:
            query: str. The player's message.
            k: int. How many hits to return.
        """
        index = self.index()
        if not query.strip() or not index.ids:
            return []
        fused, signals = self.score_matrix([query])
        order = np.argsort(-fused[0], kind="stable")[:k]
        return [
            Hit(index.ids[i], float(fused[0, i]), index.entries[i], {name: round(float(s[0, i]), 4) for name, s in signals.items()})
            for i in order
        ]


class Retrieval:
    """One Retriever per language over the same KnowledgeBase: a question is searched among the
    entries of its own language (its encoder, its BM25, its threshold), so a French question is
    answered from a French entry. A language with no approved entry is searched in `default`'s.

    Args:
        kb: KnowledgeBase.
        retrievers: dict language -> Retriever (all over `kb`).
        default: str. The language searched when the question's has no entries.

    Example:
        >>> retrieval.for_language("fr").search("je dors mal à cause du boulot")[0].entry_id
        'sleep-001-fr'
    """

    def __init__(self, kb, retrievers: dict, default: str = "en"):
        self.kb = kb
        self.retrievers = dict(retrievers)
        self.default = default

    def for_language(self, language: str) -> Retriever:
        retriever = self.retrievers.get(language)
        if retriever is None or not retriever.index().ids:
            return self.retrievers[self.default]
        return retriever
