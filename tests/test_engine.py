"""The engine's contract: stages may answer first, generated text streams through output guards."""

from dataclasses import dataclass

import pytest

from ariane.engine import ChatEngine, Context, Delta, Done, Reply
from ariane.prompt import Passage
from ariane.settings import GenerationConfig, Settings

GREEDY = GenerationConfig(temperature=0, max_new_tokens=20, max_seconds=600)
HELLO = [{"role": "user", "content": "hello"}]


@dataclass
class BannedText:
    """A guard that objects to one string (the output guards of ariane.safety work the same way)."""

    banned: str
    name: str = "banned"

    @property
    def holdback(self):
        return len(self.banned)

    def check(self, text, turn, final):
        return "banned text" if self.banned in text else None


class Grounding:
    name = "grounding"

    def __call__(self, turn):
        turn.passages = [Passage("sleep-001", "How much sleep do adults need?", "Most adults need 7 or more hours.")]


class AnswersHints:
    name = "hints"

    def __call__(self, turn):
        if turn.context.hint:
            return Reply("Look at the stars.", "hint", details={"level": 1})


def events(engine, messages=HELLO, context=None):
    out = list(engine.reply(messages, context, GREEDY))
    assert isinstance(out[-1], Done) and all(isinstance(e, Delta) for e in out[:-1])
    return [e.text for e in out[:-1]], out[-1].reply


def test_generated_reply_streams_with_metadata(tiny_model):
    deltas, reply = events(ChatEngine(tiny_model, stages=[Grounding()]))
    assert reply.mode == "generated" and reply.model == tiny_model.model_id
    assert reply.prompt_format == "ariane-chat-v1" and reply.sources == ["sleep-001"]
    assert "".join(deltas).strip() == reply.text and len(deltas) > 1
    assert reply.timings["total_s"] >= reply.timings["first_token_s"] > 0
    assert reply.details["stop_reason"] in ("end_of_turn", "max_new_tokens", "stop_string")


def test_a_stage_can_answer_without_the_model(tiny_model):
    engine = ChatEngine(tiny_model, stages=[AnswersHints(), Grounding()])
    deltas, reply = events(engine, context=Context(hint=True))
    assert reply.mode == "hint" and deltas == ["Look at the stars."] and reply.model is None
    assert engine.generator._prefill_fn is None  # the model was never called


def test_a_guard_sees_text_before_the_player_does(tiny_model):
    plain = ChatEngine(tiny_model, stages=[Grounding()]).answer(HELLO, generation=GREEDY)
    words = plain.text.split()
    assert len(words) >= 4
    banned = words[3]  # a word the model will write
    deltas, reply = events(ChatEngine(tiny_model, stages=[Grounding()], guards=[BannedText(banned)]))
    assert reply.mode == "fallback" and reply.text == "Most adults need 7 or more hours."
    assert reply.sources == ["sleep-001"] and "banned" in reply.details["guard"]
    assert banned not in "".join(deltas)  # never shown, not even in part of the stream


def test_retrieval_only_mode_answers_from_the_best_entry():
    deltas, reply = events(ChatEngine(None, stages=[Grounding()]))
    assert reply.mode == "retrieved" and reply.text == "Most adults need 7 or more hours." and reply.sources == ["sleep-001"]
    assert "without a generative model" in reply.notice
    _, reply = events(ChatEngine(None))
    assert reply.mode == "fallback"


def test_careful_stage_can_forbid_generation(tiny_model):
    class NoGeneration:
        name = "careful"

        def __call__(self, turn):
            turn.allow_generation = False

    _, reply = events(ChatEngine(tiny_model, stages=[NoGeneration(), Grounding()]))
    assert reply.mode == "retrieved" and reply.model is None


def test_sessions_keep_state_between_turns():
    engine = ChatEngine(None)
    a = engine.answer(HELLO, Context(session_id="abc"))
    engine.sessions.get("abc").hints["p"] = 2
    assert engine.sessions.get("abc").hints == {"p": 2} and a.details["session_id"] == "abc"
    assert engine.answer(HELLO).details["session_id"] != "abc"


def test_conversation_must_end_with_a_user_message(tiny_model):
    with pytest.raises(ValueError, match="must end with a user message"):
        ChatEngine(tiny_model).answer([{"role": "assistant", "content": "hi"}])


def test_small_talk_without_a_model_gets_a_greeting():
    class SmallTalk:
        name = "retrieval"

        def __call__(self, turn):
            turn.notes["small_talk"] = True

    reply = ChatEngine(None, stages=[SmallTalk()]).answer(HELLO)
    assert reply.mode == "fallback" and reply.text.startswith("Hello, I'm Ariane")


def test_grounding_too_long_for_the_window_never_crashes():
    from ariane.model import build_model

    small = build_model(max_sequence_length=128, seed=2)

    class LongGrounding:
        name = "retrieval"

        def __call__(self, turn):
            turn.passages = [Passage(f"e{i}", "question " * 20, f"answer {i} " + "word " * 150) for i in range(3)]

    reply = ChatEngine(small, stages=[LongGrounding()]).answer(HELLO, generation=GREEDY)
    assert reply.mode == "retrieved" and reply.sources == ["e0"]
    assert "context window" in reply.details["reason"]


def test_gpt2_never_writes_for_a_french_turn_unless_its_format_says_it_speaks_french(tiny_model, monkeypatch, tmp_path):
    """GPT-2 writes English: a French question gets the curated answer of its grounding. A model
    whose prompt format (saved with the weights) lists "fr" may generate in French."""
    import dataclasses

    from ariane.prompt import ChatFormat

    french = [{"role": "user", "content": "Combien d'heures de sommeil faut-il ?"}]
    _, reply = events(ChatEngine(tiny_model, stages=[Grounding()]), french)
    assert reply.mode == "retrieved" and reply.text == "Most adults need 7 or more hours." and reply.model is None
    assert "not 'fr'" in reply.details["reason"]
    _, english = events(ChatEngine(tiny_model, stages=[Grounding()]), [{"role": "user", "content": "How much sleep do I need?"}])
    assert english.mode == "generated"
    bilingual = dataclasses.replace(tiny_model.chat_format, languages=["en", "fr"])  # as read back from JSON
    assert bilingual.languages == ("en", "fr")
    assert ChatFormat.load(bilingual.save(tmp_path)).languages == ("en", "fr")
    monkeypatch.setattr(tiny_model, "chat_format", bilingual)
    _, reply = events(ChatEngine(tiny_model, stages=[Grounding()]), french)
    assert reply.mode == "generated"
