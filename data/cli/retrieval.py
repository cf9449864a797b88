"""Retrieval accuracy on the held-out rewordings, and out-of-scope rejection.

The shipped entries (data/qa) are indexed in a throw-away base; the held-out questions
(data/heldout) never are. Prints top-1/top-3 accuracy and the share of out-of-scope questions
that fall below the threshold. --calibrate also chooses the fusion weights (on validation
paraphrases, never on data/heldout) and the threshold (on data/heldout vs out-of-scope) and
writes them, with these figures, to data/retrieval.json.

Each language is measured on its own held-out rewordings (data/heldout for English,
data/heldout/fr for French) against its own entries, encoder and threshold.

Examples:
    python -m data retrieval
    python -m data retrieval --language fr --json
    python -m data retrieval --calibrate
"""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--calibrate", action="store_true", help="tune weights and threshold, write data/retrieval.json")
    p.add_argument("--bm25-only", action="store_true", help="measure without the encoders (BM25 alone)")
    p.add_argument("--language", choices=("en", "fr"), action="append", help="only this language (repeatable; default: all)")


def _validation_embedder(retriever):
    """MiniLM + the validation adapter (trained without the paraphrases the weights are chosen on)."""
    from ariane.knowledge.adapter import VALIDATION_ADAPTER_FILE
    from ariane.knowledge.embed import load_embedder

    if retriever.embedder is None or getattr(retriever.embedder.model, "adapter", None) is None:
        return None  # the base model never saw any paraphrase: its own vectors are honest
    if not VALIDATION_ADAPTER_FILE.is_file():
        raise RuntimeError(f"{VALIDATION_ADAPTER_FILE} is missing: retrain with `python -m data encoder --train` "
                           "(choosing the weights with the served adapter would flatter it)")
    cache = retriever.embedder.cache.path if retriever.embedder.cache is not None else None
    return load_embedder(cache, adapter=VALIDATION_ADAPTER_FILE)


def run(args) -> int:
    from ariane.i18n import LANGUAGES
    from ariane.knowledge.calibrate import calibrate, evaluate, write_config
    from ariane.knowledge.entries import heldout_dir, load_heldout
    from data.cli.common import shipped_retriever

    reports = {}
    for language in args.language or LANGUAGES:
        inside, outside = load_heldout(heldout_dir(language))
        with shipped_retriever(embedder=not args.bm25_only, language=language) as retriever:
            if args.calibrate:
                config, report = calibrate(retriever, inside, outside, _validation_embedder(retriever))
                path = write_config(config, report, language=language)
                if not args.json:
                    print(f"wrote {path} ({language})")
            else:
                report = evaluate(retriever, inside, outside)
        reports[language] = report
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values()))))
        return 0
    for language, report in reports.items():
        print(f"[{language}] mode: {report['mode']}  ({report['heldout_questions']} held-out rewordings, {report['out_of_scope_questions']} out-of-scope)")
        print(f"  top-1 accuracy:          {report['top1']:.1%}")
        print(f"  top-3 accuracy:          {report['top3']:.1%}")
        print(f"  threshold:               {report['threshold']}")
        print(f"  in-scope accepted:       {report['in_scope_accepted']:.1%}  (and right: {report['in_scope_accepted_and_right']:.1%})")
        print(f"  out-of-scope rejected:   {report['out_of_scope_rejected']:.1%}")
    return 0
