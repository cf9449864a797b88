"""Scores the crisis detector on a labelled TSV file (columns: message, label, lang, note).

Labels are `crisis`, `support` or `safe`. For each class: recall (share of its messages found),
precision (share of the messages predicted as it that truly are) and false-alarm rate (share of
the *other* classes' messages predicted as it), for the whole file and for each language. The
two figures that gate a release: `crisis_recall` and `safe_false_alarm`, the share of safe
messages that raise a crisis alarm.

Example:
    >>> report = evaluate(read_labelled("data/safety/dev.tsv"))   # doctest: +SKIP
    >>> report["crisis_recall"] >= 0.95                            # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ariane.safety.crisis import Assessment, CrisisDetector, default_detector

CLASSES = ("crisis", "support", "safe")
MIN_CRISIS_RECALL = 0.95  # at most 1 crisis message in 20 missed
MAX_SAFE_FALSE_ALARM = 0.05  # at most 1 everyday message in 20 answered as a crisis (the external goal is 0.02)
LEARNED = "classifier:"  # how the classifier's reasons start


@dataclass(frozen=True)
class Example:
    message: str
    label: str  # one of CLASSES
    lang: str = ""
    note: str = ""


def class_of(a: Assessment) -> str:
    """The evaluation class of an assessment: crisis, support or safe."""
    return "crisis" if a.crisis else ("support" if a.category == "support" else "safe")


def read_labelled(path) -> list[Example]:
    """Rows of a TSV with a header `message<TAB>label<TAB>lang<TAB>note`; errors name the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: labelled file not found") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or [c.strip() for c in rows[0][:2]] != ["message", "label"]:
        raise ValueError(f"{path}: the first line must be the header 'message<TAB>label<TAB>lang<TAB>note'")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or row[1].strip() not in CLASSES:
            raise ValueError(f"{path}:{n}: expected 'message<TAB>label' with label one of {', '.join(CLASSES)}, got {row!r}")
        out.append(Example(row[0], row[1].strip(), *(c.strip() for c in row[2:4])))
    if not out:
        raise ValueError(f"{path}: no labelled messages")
    return out


def evaluate(examples: list[Example], detector: CrisisDetector | None = None) -> dict:
    """Per-class recall, precision and false-alarm rate, overall and per language, the gate
    figures, which route raised each alarm, and the mistakes."""
    detector = detector or default_detector()
    pairs, mistakes, routes = [], [], {"rules": 0, "classifier": 0}
    for ex, a in zip(examples, detector.assess_many([ex.message for ex in examples])):
        pred = class_of(a)
        if a.crisis:
            routes["classifier" if a.reason.startswith(LEARNED) else "rules"] += 1
        pairs.append((ex.label, pred))
        if pred != ex.label:
            mistakes.append({"message": ex.message, "label": ex.label, "predicted": pred, "lang": ex.lang, "category": a.category, "reason": a.reason})
    langs = [ex.lang for ex in examples]
    report = {**_figures(pairs), "routes": routes, "mistakes": mistakes}
    report["languages"] = {lang: _figures([p for p, l in zip(pairs, langs) if l == lang]) for lang in sorted(set(langs)) if lang}
    return report


def _figures(pairs: list[tuple[str, str]]) -> dict:
    per_class = {}
    for c in CLASSES:
        tp = sum(1 for t, p in pairs if t == c and p == c)
        n_true = sum(1 for t, _ in pairs if t == c)
        n_pred = sum(1 for _, p in pairs if p == c)
        per_class[c] = {
            "n": n_true,
            "recall": _ratio(tp, n_true),
            "precision": _ratio(tp, n_pred),
            "false_alarm": _ratio(n_pred - tp, len(pairs) - n_true),
        }
    safe_alarms = sum(1 for t, p in pairs if t == "safe" and p == "crisis")
    return {
        "n": len(pairs),
        "classes": per_class,
        "crisis_recall": per_class["crisis"]["recall"],
        "safe_false_alarm": _ratio(safe_alarms, per_class["safe"]["n"]),
    }


def passes(report: dict) -> bool:
    """True when crisis recall and the safe false-alarm rate meet the release targets."""
    return report["crisis_recall"] >= MIN_CRISIS_RECALL and report["safe_false_alarm"] <= MAX_SAFE_FALSE_ALARM


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0
