"""Run the crisis detector on messages, score it on a labelled file, or train its classifier.

Without options, reads messages from standard input (one a line) and prints one JSON line each:
{"message", "crisis", "category", "reason"}. With --eval FILE.tsv, prints recall, precision and
false-alarm rate per class (crisis / support / safe), for the whole file and for each language,
and exits 1 if crisis recall < 0.95 or the share of safe messages answered as a crisis > 0.05
(--no-fail: report only). With --train, fits the classifier on data/safety/train/ and chooses
its threshold by leave-one-writer-out cross-validation (needs scikit-learn; a few minutes).

The detector is the rules of ariane/safety/patterns.yaml, then the learned classifier
(multilingual-e5 + n-grams; `reason` starts "classifier:"). --rules-only runs the rules alone,
for comparison.

Examples:
    echo "je ne vois plus de raison de continuer" | python -m ariane safety
    python -m ariane safety --eval data/safety/blind2.tsv
    python -m ariane safety --eval data/safety/test.tsv --rules-only --no-fail
    python -m ariane safety --train
"""

from __future__ import annotations

import json
import sys


def add_arguments(p) -> None:
    p.add_argument("--eval", metavar="FILE.tsv", help="labelled file: message<TAB>label<TAB>lang<TAB>note, label crisis|support|safe")
    p.add_argument("--no-fail", action="store_true", help="with --eval: report only, exit 0 even below the targets")
    p.add_argument("--json", action="store_true", help="with --eval: print the report as one JSON object")
    p.add_argument("--mistakes", action="store_true", help="with --eval: list the misclassified messages")
    p.add_argument("--rules-only", action="store_true", help="the patterns alone, without the classifier")
    p.add_argument("--train", action="store_true", help="train the classifier on data/safety/train/ and write data/safety/classifier.*")


def _detector(args):
    from ariane.safety.crisis import default_detector, rules_detector

    return rules_detector() if args.rules_only else default_detector()


def _describe(detector) -> str:
    c = detector.classifier
    if c is None:
        return "rules only"
    return f"rules + classifier ({c.encoder.model_id} + n-grams, P(crisis) >= {c.threshold})"


def run(args) -> int:
    if args.train:
        from ariane.knowledge.stage import embeddings_path
        from ariane.safety.train import main
        from ariane.settings import Settings

        return main(embeddings_path(Settings.from_env()))
    if args.eval:
        return _evaluate(args)
    detector = _detector(args)
    for line in sys.stdin:
        message = line.rstrip("\r\n")
        if not message.strip():
            continue
        a = detector.assess(message)
        print(json.dumps({"message": message, "crisis": a.crisis, "category": a.category, "reason": a.reason}, ensure_ascii=False), flush=True)
    return 0


def _table(figures: dict, indent: str = "") -> None:
    from ariane.safety.evaluation import CLASSES

    print(f"{indent}{'class':<8} {'n':>4} {'recall':>7} {'precision':>9} {'false alarm':>11}")
    for c in CLASSES:
        r = figures["classes"][c]
        print(f"{indent}{c:<8} {r['n']:>4} {r['recall']:>7.3f} {r['precision']:>9.3f} {r['false_alarm']:>11.3f}")


def _evaluate(args) -> int:
    from ariane.safety.evaluation import MAX_SAFE_FALSE_ALARM, MIN_CRISIS_RECALL, evaluate, passes, read_labelled

    detector = _detector(args)
    report = evaluate(read_labelled(args.eval), detector)
    ok = passes(report)
    if args.json:
        print(json.dumps({**report, "file": args.eval, "detector": _describe(detector), "passes": ok}, ensure_ascii=False))
        return 0 if ok or args.no_fail else 1
    print(f"{args.eval}: {report['n']} messages; detector: {_describe(detector)}")
    _table(report)
    for lang, figures in report["languages"].items():
        print(f"  {lang}: {figures['n']} messages; crisis recall {figures['crisis_recall']:.3f}, safe answered as a crisis {figures['safe_false_alarm']:.3f}")
        _table(figures, "    ")
    print(f"crisis recall {report['crisis_recall']:.3f} (target >= {MIN_CRISIS_RECALL}); "
          f"safe messages answered as a crisis {report['safe_false_alarm']:.3f} (target <= {MAX_SAFE_FALSE_ALARM})")
    print(f"crisis alarms by route: rules {report['routes']['rules']}, classifier {report['routes']['classifier']}")
    if args.mistakes:
        for m in report["mistakes"]:
            print(f"  [{m['lang']}] [{m['label']} -> {m['predicted']}] {m['message']}  ({m['reason']})")
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok or args.no_fail else 1
