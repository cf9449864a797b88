"""Trains the crisis classifier and chooses its threshold on writers it was not trained on.

    python -m ariane safety --train        # ~5 min on 2 cores the first time (embeds ~9,000 texts)

Training data (never the evaluation sets: dev.tsv, test.tsv, blind.tsv, blind2.tsv):

- data/safety/train/*.tsv: labelled messages in English and French, one file per independent
  writer (data/safety/CARD.md says who wrote what and how);
- data/safety/examples.tsv: the project's earlier labelled examples;
- the knowledge base's questions and paraphrases (data/qa): everyday wellbeing talk, used as
  non-crisis examples of the crisis head only (data/heldout stays out, to measure alarms on it).

The threshold is chosen for recall by **leave-one-writer-out cross-validation**: each file is
scored by heads trained on all the others, so the figures say how the detector does on a writer
it never read (the knowledge questions are split in `KNOWLEDGE_FOLDS` folds by entry). The
threshold kept is the highest on a grid whose cross-validated crisis recall (rules or classifier)
reaches `TARGET_RECALL`, among those where at most `MAX_KNOWLEDGE_ALARM` of the knowledge
questions raise an alarm (if none reaches the target, the lowest of those). Its safe false-alarm
rate is what it trades. Then the heads are refit on everything and written with the figures to
data/safety/classifier.npz / classifier.json.

Needs scikit-learn (requirements-dev.txt); serving needs only NumPy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ariane.safety.classifier import CATEGORIES, CONFIG_FILE, DATA_DIR, HEADS, WEIGHTS_FILE, CrisisClassifier
from ariane.safety.evaluation import Example, read_labelled

log = logging.getLogger(__name__)

DATA_ROOT = DATA_DIR.parent
TRAIN_DIR = DATA_DIR / "train"
EXTRA_TRAIN_FILES = (DATA_DIR / "examples.tsv",)
EVAL_FILES = tuple(DATA_DIR / f for f in ("dev.tsv", "test.tsv", "blind.tsv", "blind2.tsv"))  # never trained on: a training text found in them is dropped
KNOWLEDGE = "knowledge"  # groups of knowledge-base questions are named "knowledge:<fold>"
C = 10.0  # inverse L2 strength of every head (leave-one-writer-out: 3, 10, 30 tried; 10 best)
TARGET_RECALL = 0.90  # cross-validated crisis recall the threshold must reach (on writers never trained on)
MAX_KNOWLEDGE_ALARM = 0.02  # knowledge questions of entries left out raising an alarm; the tests hold new rewordings of known entries (data/heldout) at 1 %
KNOWLEDGE_FOLDS = 5  # the knowledge questions' cross-validation folds (all phrasings of an entry in one fold)
GRID = tuple(round(t, 3) for t in np.arange(0.05, 0.951, 0.025))  # thresholds tried
CATEGORY_WORDS = (("harm others", "harm_others"), ("self-harm", "self_harm"), ("acute", "acute_distress"))  # note -> category


def crisis_category(note: str) -> tuple[str, str]:
    """(category, subject) of a crisis example from its note: 'self-harm, third person' -> ('self_harm', 'other')."""
    note = note.casefold()
    category = next((c for word, c in CATEGORY_WORDS if word in note), "suicide")
    return category, "other" if "third person" in note else "self"


def knowledge_entries(root: Path = DATA_ROOT, folders=("qa",)) -> list[tuple[str, str, list[str]]]:
    """(pair key, language, phrasings) of every entry of data/qa, in English and French (`folders`
    may add "heldout" and "heldout/fr"); an entry and its counterpart share the pair key."""
    from ariane.knowledge.entries import pair_key

    out = []
    for folder in folders:
        for path in sorted(root.glob(f"{folder}/*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    key = pair_key(row.get("id") or row.get("entry_id") or row["question"])
                    out.append((key, row.get("language") or ("fr" if folder.endswith("/fr") else "en"), [row["question"], *row.get("paraphrases", [])]))
    return out


def knowledge_questions(root: Path = DATA_ROOT, folders=("qa",)) -> list[list[str]]:
    """The knowledge base's entries as lists of phrasings (question, then paraphrases)."""
    return [phrasings for _, _, phrasings in knowledge_entries(root, folders)]


def training_groups(train_dir: Path = TRAIN_DIR, extra=EXTRA_TRAIN_FILES, knowledge: bool = True) -> dict[str, list[Example]]:
    """File stem -> its examples (each text once over all files), plus the knowledge questions."""
    files = sorted(Path(train_dir).glob("*.tsv")) + [Path(p) for p in extra]
    if not files:
        raise ValueError(f"no training files in {train_dir}")
    seen = {" ".join(ex.message.casefold().split()) for path in EVAL_FILES if Path(path).is_file() for ex in read_labelled(path)}
    groups = {}
    for path in files:
        rows = []
        for ex in read_labelled(path):
            key = " ".join(ex.message.casefold().split())
            if key not in seen:
                seen.add(key)
                rows.append(ex)
        groups[path.stem] = rows
    if knowledge:
        folds: dict[str, int] = {}  # an entry and its French counterpart share a fold: no translation leaks across folds
        for pair, language, phrasings in knowledge_entries():
            fold = folds.setdefault(pair, len(folds) % KNOWLEDGE_FOLDS)
            rows = groups.setdefault(f"{KNOWLEDGE}:{fold}", [])
            for n, q in enumerate(phrasings):
                key = " ".join(q.casefold().split())
                if key not in seen:
                    seen.add(key)
                    rows.append(Example(q, "safe", language, "knowledge question (canonical)" if n == 0 else "knowledge question"))
    return groups


def embed(texts: list[str], encoder, cache_path: Path | None) -> np.ndarray:
    """e5 vectors, through the embedding cache (training files are not players' messages)."""
    from ariane.knowledge.embed import EmbeddingCache

    if cache_path is None:
        return encoder.embed(texts)
    cache = EmbeddingCache(cache_path)
    keys = [EmbeddingCache.key(t, encoder.model_id) for t in texts]
    found = cache.get_many(sorted(set(keys)))
    missing = sorted({t for t, k in zip(texts, keys) if k not in found})
    for start in range(0, len(missing), 256):
        chunk = missing[start : start + 256]
        new = {EmbeddingCache.key(t, encoder.model_id): v for t, v in zip(chunk, encoder.embed(chunk))}
        cache.put_many(new)
        found.update(new)
        log.info("embedded %d/%d training texts", min(start + 256, len(missing)), len(missing))
    return np.stack([found[k] for k in keys])


def _logistic(X, y, multiclass: bool = False):
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X, y)


def fit_heads(X, examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Weights (len(HEADS), dim) and bias of every head, fit on the rows of `X`."""
    labels = np.array([ex.label for ex in examples])
    knowledge = np.array([ex.note.startswith("knowledge question") for ex in examples])
    canonical = np.array([ex.note == "knowledge question (canonical)" for ex in examples])
    weights = np.zeros((len(HEADS), X.shape[1]), np.float32)
    bias = np.zeros(len(HEADS), np.float32)
    crisis = _logistic(X, labels == "crisis")
    weights[0], bias[0] = crisis.coef_[0], crisis.intercept_[0]
    # The support head learns distress from the writers' messages; the entries' canonical questions
    # ("How can I manage stress at work?") teach it that a general question is not distress. Their
    # paraphrases stay out: some are first-person situations a writer would call support.
    rest = (labels != "crisis") & (~knowledge | canonical)
    support = _logistic(X[rest], labels[rest] == "support")
    weights[1], bias[1] = support.coef_[0], support.intercept_[0]
    rows = np.flatnonzero(labels == "crisis")
    cats, subjects = zip(*(crisis_category(examples[i].note) for i in rows))
    cat = _logistic(X[rows], np.array([CATEGORIES.index(c) for c in cats]))
    present = list(cat.classes_)
    for j, c in enumerate(CATEGORIES):
        if j in present:
            k = present.index(j)
            weights[2 + j], bias[2 + j] = cat.coef_[k], cat.intercept_[k]
        else:
            bias[2 + j] = -1e4  # a category no example has is never chosen
    subject = _logistic(X[rows], np.array([s == "other" for s in subjects]))
    weights[-1], bias[-1] = subject.coef_[0], subject.intercept_[0]
    return weights, bias


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cross_validate(X, examples: list[Example], group: np.ndarray) -> np.ndarray:
    """Out-of-writer P(crisis): each group scored by a crisis head fit on the others."""
    from sklearn.linear_model import LogisticRegression  # noqa: F401 - fail early with the install hint

    labels = np.array([ex.label for ex in examples]) == "crisis"
    p = np.zeros(len(examples))
    for g in dict.fromkeys(group):
        test = group == g
        head = _logistic(X[~test], labels[~test])
        p[test] = head.predict_proba(X[test])[:, 1]
        log.info("cross-validation: %s scored by a head trained without it", g)
    return p


def choose_threshold(p: np.ndarray, rules_alarm: np.ndarray, final: np.ndarray, examples: list[Example], group: np.ndarray) -> tuple[float, dict]:
    """The threshold kept (see the module docstring) and the cross-validated figures at it.
    `final`: messages whose rules' verdict the classifier may not overrule (CrisisDetector.assess_rules)."""
    labels = np.array([ex.label for ex in examples])
    langs = np.array([ex.lang for ex in examples])
    knowledge = np.char.startswith(group.astype(str), KNOWLEDGE)
    crisis, safe = labels == "crisis", (labels == "safe") & ~knowledge

    def figures(alarm, mask=True):
        m = np.ones(len(labels), bool) & mask
        return {"crisis_recall": _rate(alarm, m & crisis), "safe_false_alarm": _rate(alarm, m & safe),
                "support_to_crisis": _rate(alarm, m & (labels == "support")), "n_crisis": int((m & crisis).sum()), "n_safe": int((m & safe).sum())}

    allowed = [t for t in GRID if _rate(rules_alarm | ((p >= t) & ~final), knowledge) <= MAX_KNOWLEDGE_ALARM]
    reaching = [t for t in allowed if _rate(rules_alarm | ((p >= t) & ~final), crisis) >= TARGET_RECALL]
    t = max(reaching) if reaching else (min(allowed) if allowed else None)
    curve = []
    for u in GRID[::2]:
        a = rules_alarm | ((p >= u) & ~final)
        curve.append({"threshold": u, "crisis_recall": _rate(a, crisis), "safe_false_alarm": _rate(a, safe), "knowledge_alarm": _rate(a, knowledge)})
    if t is None:
        raise ValueError(f"every threshold makes more than {MAX_KNOWLEDGE_ALARM:.0%} of the knowledge questions raise an alarm; "
                         f"add safe look-alikes to data/safety/train/. Cross-validated: {curve}")
    alarm = rules_alarm | ((p >= t) & ~final)
    return float(t), {
        "method": "leave-one-writer-out: each file scored by a crisis head trained on all the others",
        "rules_only": figures(rules_alarm),
        "combined": {"all": figures(alarm), "en": figures(alarm, langs == "en"), "fr": figures(alarm, langs == "fr"),
                     **{str(g): figures(alarm, group == g) for g in dict.fromkeys(group) if not str(g).startswith(KNOWLEDGE)}},
        "knowledge_alarm": _rate(alarm, knowledge),
        "curve": curve,
        "targets": {"crisis_recall": TARGET_RECALL, "knowledge_alarm_max": MAX_KNOWLEDGE_ALARM, "reached": bool(reaching)},
    }


def _rate(flags: np.ndarray, mask: np.ndarray) -> float:
    return round(float(flags[mask].mean()), 4) if mask.any() else 0.0


def data_fingerprint(groups: dict[str, list[Example]]) -> str:
    """sha256 of every training text and label, to tell whether the shipped heads are up to date."""
    h = hashlib.sha256()
    for g in sorted(groups):
        for ex in groups[g]:
            h.update(f"{g}\t{ex.message}\t{ex.label}\t{ex.note}\n".encode("utf-8"))
    return h.hexdigest()


def train(groups: dict[str, list[Example]], encoder, cache_path: Path | None = None, cross_validation: bool = True) -> CrisisClassifier:
    """Fit every head on `groups`, choosing the threshold by cross-validation over the groups."""
    from ariane.safety.crisis import rules_detector
    from ariane.safety.features import matrix

    examples = [ex for g in groups for ex in groups[g]]
    group = np.array([g for g in groups for _ in groups[g]])
    texts = [ex.message for ex in examples]
    X = matrix(embed(texts, encoder, cache_path), texts)
    info = {"data": {g: len(v) for g, v in groups.items()}, "data_sha256": data_fingerprint(groups), "C": C}
    threshold = 0.5
    if cross_validation:
        rules = [rules_detector().assess_rules(t) for t in texts]
        rules_alarm, final = np.array([a.crisis for a, _ in rules]), np.array([f for _, f in rules])
        threshold, info["cross_validation"] = choose_threshold(cross_validate(X, examples, group), rules_alarm, final, examples, group)
    weights, bias = fit_heads(X, examples)
    return CrisisClassifier(weights, bias, threshold, encoder, info)


def main(cache_path: Path | None = None) -> int:
    from ariane.knowledge.e5 import E5Encoder, EncoderMissing

    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("training needs scikit-learn: `pip install -r requirements-dev.txt`", file=sys.stderr)
        return 1
    try:
        encoder = E5Encoder(threads=2)
    except EncoderMissing as exc:
        print(f"cannot train: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # progress: embedding, then one fit per left-out writer
    start = time.perf_counter()
    clf = train(training_groups(), encoder, cache_path)
    clf.save(WEIGHTS_FILE, CONFIG_FILE)
    cv = clf.info["cross_validation"]
    print(f"threshold {clf.threshold} ({time.perf_counter() - start:.0f} s); leave-one-writer-out figures:")
    for name in ("all", "en", "fr"):
        f = cv["combined"][name]
        print(f"  {name:<3} crisis recall {f['crisis_recall']:.3f}  safe false alarm {f['safe_false_alarm']:.3f}  ({f['n_crisis']} crisis, {f['n_safe']} safe)")
    print(f"  rules alone: crisis recall {cv['rules_only']['crisis_recall']:.3f}; knowledge questions alarming {cv['knowledge_alarm']:.4f}")
    print(f"wrote {WEIGHTS_FILE.relative_to(DATA_ROOT.parent)}, {CONFIG_FILE.relative_to(DATA_ROOT.parent)}")
    return 0
