"""Describe the knowledge entries: counts, lengths, frequent n-grams and a word cloud.

Reads the shipped entries (data/qa), or the knowledge base with --kb. Writes stats.json and
wordcloud.png to --out (default ARIANE_HOME/stats) and prints a summary. Words are split with a
regular expression (no tokenizer data to download).

Examples:
    python -m data stats
    python -m data stats --kb --out /tmp/stats --top 20
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from pathlib import Path

import unicodedata

from ariane.knowledge.retrieval import STOPWORDS as RETRIEVAL_STOPWORDS
from ariane.knowledge.retrieval import STOPWORDS_FR

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # lower-cased words of any language, "don't" kept whole
STOPWORDS = RETRIEVAL_STOPWORDS | STOPWORDS_FR | frozenset(  # retrieval's lists plus contractions and fillers
    "from than them also may more most other over up out can't don't doesn't isn't you're they're what's there's "
    "votre vos cela son sont peut etre aussi si sans entre".split()
)


def _stop(word: str) -> bool:
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word in STOPWORDS or plain in STOPWORDS or plain.split("'")[-1] in STOPWORDS


def add_arguments(p) -> None:
    p.add_argument("--out", help="folder for stats.json and wordcloud.png (default: ARIANE_HOME/stats)")
    p.add_argument("--kb", action="store_true", help="describe ARIANE_HOME/knowledge.sqlite instead of data/qa")
    p.add_argument("--top", type=int, default=15, help="how many n-grams to list (default 15)")


def words(text: str) -> list[str]:
    return WORD.findall(text.casefold().replace("’", "'"))


def ngrams(texts, n: int, top: int) -> list:
    """The `top` most frequent n-grams that neither start nor end with a stopword."""
    counts: Counter = Counter()
    for text in texts:
        w = words(text)
        for i in range(len(w) - n + 1):
            gram = w[i : i + n]
            if not _stop(gram[0]) and not _stop(gram[-1]):
                counts[" ".join(gram)] += 1
    return counts.most_common(top)


def lengths(values: list[int]) -> dict:
    if not values:
        return {}
    return {"min": min(values), "median": statistics.median(values), "mean": round(statistics.fmean(values), 1), "max": max(values)}


def describe(entries, top: int = 15) -> dict:
    """Counts per category, status and language; then, per language, word-length distributions,
    sources and top n-grams (English and French words do not mix in one list)."""
    by_category: dict = {}
    for e in entries:
        row = by_category.setdefault(e.category, {"approved": 0, "draft": 0})
        row[e.status] += 1
    languages = sorted({e.language for e in entries})
    return {
        "entries": len(entries),
        "by_category": dict(sorted(by_category.items())),
        "by_status": dict(Counter(e.status for e in entries)),
        "by_language": {lang: describe_language([e for e in entries if e.language == lang], top) for lang in languages},
    }


def describe_language(entries, top: int = 15) -> dict:
    """Word-length distributions, sources and top n-grams of one language's entries."""
    questions = [e.question for e in entries] + [p for e in entries for p in e.paraphrases]
    return {
        "entries": len(entries),
        "paraphrases_per_entry": lengths([len(e.paraphrases) for e in entries]),
        "question_words": lengths([len(words(q)) for q in questions]),
        "answer_words": lengths([len(words(e.answer)) for e in entries]),
        "sources": Counter(e.source.split(" — ")[0] for e in entries).most_common(top),
        "top_unigrams": ngrams([e.answer for e in entries] + questions, 1, top),
        "top_bigrams": ngrams([e.answer for e in entries] + questions, 2, top),
        "top_trigrams": ngrams([e.answer for e in entries] + questions, 3, top),
    }


def word_cloud(entries, path: Path) -> Path:
    """A PNG word cloud of the answers and questions (stopwords left out)."""
    from wordcloud import WordCloud

    counts = Counter(w for e in entries for w in words(" ".join(e.texts())) if not _stop(w) and len(w) > 2)
    cloud = WordCloud(width=1200, height=600, background_color="white", random_state=0, collocations=False)
    cloud.generate_from_frequencies(counts).to_file(str(path))
    return path


def run(args) -> int:
    from ariane.knowledge.entries import load_entries
    from data.cli.common import settings

    home = Path(settings().home)
    if args.kb:
        from ariane.knowledge.store import KnowledgeBase

        kb = KnowledgeBase.open(settings())
        entries = kb.list()
        kb.close()
    else:
        entries = load_entries()
    out = Path(args.out) if args.out else home / "stats"
    out.mkdir(parents=True, exist_ok=True)
    stats = describe(entries, args.top)
    (out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    cloud = word_cloud(entries, out / "wordcloud.png")
    print(f"{stats['entries']} entries in {len(stats['by_category'])} categories; status: {stats['by_status']}")
    for category, counts in stats["by_category"].items():
        print(f"  {category:<24} approved {counts['approved']:>3}  draft {counts['draft']:>3}")
    for lang, part in stats["by_language"].items():
        print(f"[{lang}] {part['entries']} entries")
        for name in ("paraphrases_per_entry", "question_words", "answer_words"):
            print(f"  {name}: {part[name]}")
        for name in ("top_unigrams", "top_bigrams", "top_trigrams"):
            print(f"  {name}: " + ", ".join(f"{g} ({c})" for g, c in part[name]))
    print(f"wrote {out / 'stats.json'} and {cloud}")
    return 0
