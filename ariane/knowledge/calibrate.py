"""Measure retrieval on the held-out rewordings and calibrate its weights and threshold.

The held-out questions (data/heldout/*.jsonl) are never indexed. `evaluate` reports top-1 and
top-3 accuracy on the in-scope rewordings and how many out-of-scope questions fall below the
threshold. `calibrate` picks the fusion weights (a coarse grid, so the figures do not flatter a
lucky combination) on validation paraphrases, never on data/heldout: one paraphrase per entry,
left out of the index and out of the validation adapter's training (the same seeded split as
`python -m data encoder --train`). Only the threshold is then set on data/heldout against the
out-of-scope questions (Youden's J: accepted in-scope share + rejected out-of-scope share − 1).
`write_config` stores the result, with the figures it came from, in data/retrieval.json.

Example:
    >>> inside, outside = load_heldout()
    >>> config, report = calibrate(retriever, inside, outside)
    >>> write_config(config, report)
"""

from __future__ import annotations

import datetime
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ariane.knowledge.entries import HeldOut
from ariane.knowledge.retrieval import CONFIG_FILE, RetrievalConfig, Retriever

GRID = {  # coarse on purpose (2 x 4 x 4 x 2 = 64 combinations for 279 questions): no lucky decimals
    "w_questions": (0.5, 1.0),
    "w_answer": (0.0, 0.25, 0.5, 1.0),
    "w_bm25": (0.0, 0.1, 0.2, 0.4),
    "bm25_k": (5.0, 10.0),
}


def _fuse(signals: dict, config: RetrievalConfig, semantic: bool) -> np.ndarray:
    if not semantic:
        return signals["bm25"]
    w = {"questions": config.w_questions, "answer": config.w_answer, "bm25": config.w_bm25}
    return sum(v * signals[k] for k, v in w.items()) / sum(w.values())


def _accuracy(scores: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :3]
    return float((order[:, 0] == gold).mean()), float((order == gold[:, None]).any(1).mean())


def best_threshold(inside_top: np.ndarray, outside_top: np.ndarray) -> tuple[float, float]:
    """(threshold, J) maximising accepted in-scope share + rejected out-of-scope share − 1.

    The threshold is placed halfway between the two scores it separates.
    """
    values = np.unique(np.concatenate([inside_top, outside_top]))
    cuts = np.concatenate([[values[0] - 1e-3], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-3]])
    best = (float(cuts[0]), -1.0)
    for cut in cuts:
        j = float((inside_top >= cut).mean() + (outside_top < cut).mean() - 1)
        if j > best[1] + 1e-9:
            best = (float(cut), j)
    return best


def _signals(retriever: Retriever, questions: list[str], bm25_k: float) -> dict:
    original = retriever.config
    retriever.config = replace(original, bm25_k=bm25_k)
    try:
        return retriever.score_matrix(questions, cache=True)[1]
    finally:
        retriever.config = original


def evaluate(retriever: Retriever, inside, outside, config: RetrievalConfig | None = None) -> dict:
    """Top-1/top-3 on in-scope rewordings, and acceptance/rejection at the threshold.

    Args:
        retriever: Retriever. Its base must hold the entries the rewordings point to.
        inside: list of HeldOut with an entry_id.
        outside: list of HeldOut without one (out of scope).
        config: RetrievalConfig | None. Weights and threshold to test (default: the retriever's).
    """
    config = config or retriever.config
    index = retriever.index()
    position = {eid: i for i, eid in enumerate(index.ids)}
    missing = [h for h in inside if h.entry_id not in position]
    if missing:
        raise ValueError(f"{missing[0].where}: entry {missing[0].entry_id} is not an approved entry of the knowledge base")
    signals = _signals(retriever, [h.question for h in inside] + [h.question for h in outside], config.bm25_k)
    fused = _fuse(signals, config, retriever.semantic)
    n = len(inside)
    gold = np.array([position[h.entry_id] for h in inside])
    top1, top3 = _accuracy(fused[:n], gold)
    threshold = config.threshold if retriever.semantic else config.bm25_threshold
    inside_top, outside_top = fused[:n].max(1), fused[n:].max(1)
    accepted = inside_top >= threshold
    correct = fused[:n].argmax(1) == gold
    return {
        "mode": _mode(retriever),
        "language": retriever.language,
        "heldout_questions": n,
        "out_of_scope_questions": len(outside),
        "top1": round(top1, 4),
        "top3": round(top3, 4),
        "threshold": round(threshold, 4),
        "in_scope_accepted": round(float(accepted.mean()), 4),
        "in_scope_accepted_and_right": round(float((accepted & correct).mean()), 4),
        "out_of_scope_rejected": round(float((outside_top < threshold).mean()), 4),
    }


def _mode(retriever: Retriever) -> str:
    """"minilm+bm25", "e5+bm25" or "bm25": which signals score the entries."""
    if not retriever.semantic:
        return "bm25"
    return ("e5" if "e5" in retriever.embedder.model_id else "minilm") + "+bm25"


class _FixedBase:
    """A stand-in for KnowledgeBase holding a fixed list of entries (the validation index)."""

    version = 0

    def __init__(self, entries):
        self.entries = entries

    def approved(self):
        return self.entries


def validation_questions(retriever: Retriever, validation_embedder=None, seed: int = 0):
    """A Retriever over the entries minus one paraphrase each, and those paraphrases as questions.

    Args:
        retriever: Retriever. The served one (its entries and config).
        validation_embedder: Embedder | None. The embedder that never saw the held-out
            paraphrases (MiniLM + data/minilm_adapter_validation.npz); None = the retriever's
            own, which is only honest when it is the base model.
        seed: int. The split's seed (the adapter's training seed).
    """
    from ariane.knowledge.adapter import validation_split, without_validation

    entries = retriever.index().entries
    kept, questions = without_validation(entries, validation_split(entries, seed))
    embedder = validation_embedder if validation_embedder is not None else retriever.embedder
    return Retriever(_FixedBase(kept), embedder, retriever.config, retriever.language), [HeldOut(q, eid, "validation paraphrase") for q, eid in questions]


def calibrate(retriever: Retriever, inside, outside, validation_embedder=None, seed: int = 0) -> tuple[RetrievalConfig, dict]:
    """Choose weights on the grid (best top-1, then top-3) on the validation paraphrases, then
    the threshold (best J) on the held-out rewordings against the out-of-scope questions.

    The weights never see data/heldout: they are chosen on one paraphrase per entry, held out of
    the index (and, through `validation_embedder`, out of the adapter's training). The threshold
    is calibrated on data/heldout + out-of-scope (a single number; the top-1/top-3 reported for
    the held-out set do not depend on it).

    Returns:
        (RetrievalConfig, report): the chosen config, `evaluate`'s figures for it, the
        validation figures the weights came from, and the BM25-only figures that set `bm25_threshold`.
    """
    index = retriever.index()
    best, best_key = retriever.config, (-1.0, -1.0)
    if retriever.semantic:
        val_retriever, val_questions = validation_questions(retriever, validation_embedder, seed)
        val_index = val_retriever.index()
        val_gold = np.array([val_index.ids.index(h.entry_id) for h in val_questions])
        by_k = {k: _signals(val_retriever, [h.question for h in val_questions], k) for k in GRID["bm25_k"]}
        for wq, wa, wb, k in itertools.product(*GRID.values()):
            candidate = replace(retriever.config, w_questions=wq, w_answer=wa, w_bm25=wb, bm25_k=k)
            key = _accuracy(_fuse(by_k[k], candidate, True), val_gold)
            if key > best_key:
                best, best_key = candidate, key
    position = {eid: i for i, eid in enumerate(index.ids)}
    gold = np.array([position[h.entry_id] for h in inside])
    questions = [h.question for h in inside] + [h.question for h in outside]
    n = len(inside)
    signals = _signals(retriever, questions, best.bm25_k)
    if retriever.semantic:
        fused = _fuse(signals, best, True)
        threshold, _ = best_threshold(fused[:n].max(1), fused[n:].max(1))
        best = replace(best, threshold=round(threshold, 4))
    bm25 = signals["bm25"]
    bm25_threshold, _ = best_threshold(bm25[:n].max(1), bm25[n:].max(1))
    best = replace(best, bm25_threshold=round(bm25_threshold, 4))
    report = evaluate(retriever, inside, outside, best)
    if retriever.semantic:
        report["weights_chosen_on"] = {
            "questions": len(val_questions),
            "what": "one paraphrase per entry (seed %d) held out of the index and of the adapter's training" % seed,
            "top1": round(best_key[0], 4),
            "top3": round(best_key[1], 4),
        }
        report["bm25_only"] = evaluate(Retriever(retriever.kb, None, best, retriever.language), inside, outside)  # the same figures without MiniLM
    return best, report


def write_config(config: RetrievalConfig, report: dict, path=CONFIG_FILE, language: str = "en") -> Path:
    """Write `language`'s config and the figures it came from into data/retrieval.json (English
    at the top level, other languages under `languages`; the other languages' are kept)."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data["about"] = (
        "Retrieval weights and thresholds per language, written by `python -m data retrieval --calibrate`: the weights are "
        "chosen on validation paraphrases (one per entry, out of the index and of the validation adapter's training), "
        "the thresholds on data/heldout (rewordings vs out-of-scope.jsonl; French: data/heldout/fr). Regenerate after "
        "changing the entries or the adapter."
    )
    part = {"calibrated": datetime.date.today().isoformat(), "config": config.to_dict(), "figures": report}
    if language == "en":
        data.update(part)
    else:
        data.setdefault("languages", {})[language] = part
    order = ("about", "calibrated", "config", "figures", "languages")
    data = {k: data[k] for k in order if k in data}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
