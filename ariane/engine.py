"""The chat engine: the one way the page, the CLI and the evaluation get an answer.

`ChatEngine.reply(messages, context)` streams `Delta` events and ends with one `Done` holding
the `Reply` and its metadata. A turn flows through *stages* (input checks, crisis detection,
hints, retrieval); any stage may answer on its own (a crisis never reaches the model). Then the
model writes a grounded reply, or, without a model, the best knowledge entry is returned. Every
generated character passes the *output guards* before it is shown; a guard that objects replaces
the reply with the grounded knowledge answer.

Example:
    >>> engine = ChatEngine(model=None)
    >>> engine.answer([{"role": "user", "content": "hello"}]).mode
    'fallback'
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Iterator, Protocol

from ariane.i18n import language_of, say
from ariane.messages import last_user_message, normalize
from ariane.prompt import GameContext, Passage
from ariane.session import SessionState, SessionStore
from ariane.settings import GenerationConfig, Settings

MODES = ("generated", "retrieved", "hint", "crisis", "fallback", "refused")

FALLBACK_TEXT = say("fallback", "en")  # the English sentences; ariane/i18n.py has them in every language
SMALL_TALK_TEXT = say("small_talk", "en")
RETRIEVAL_ONLY_NOTICE = say("retrieval_only", "en")


@dataclass
class Context:
    """What the caller knows about a turn besides the messages."""

    session_id: str | None = None  # random id from the page; None = a fresh session
    room: str | None = None  # room id of the escape game, if known
    puzzle: str | None = None  # puzzle id, if known
    locale: str | None = None  # e.g. "fr-FR"; None = Settings.locale
    hint: bool = False  # the player pressed "Hint": give the next hint level


@dataclass
class Reply:
    """A finished answer and everything the page, the feedback log and the evaluation need."""

    text: str
    mode: str  # one of MODES
    sources: list = field(default_factory=list)  # knowledge entry ids used
    escalated: bool = False  # a crisis was recorded for a mediator
    model: str | None = None  # model id, None when no model wrote the text
    prompt_format: str | None = None  # prompt format version used for generation
    timings: dict = field(default_factory=dict)  # seconds: total, first_token, per stage
    notice: str | None = None  # a line to show above the answer (e.g. retrieval-only mode)
    details: dict = field(default_factory=dict)  # mode-specific: hint level, stop reason, guard...

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {MODES}")

    def meta(self) -> dict:
        d = asdict(self)
        d.pop("text")
        return d


@dataclass
class Delta:
    """A piece of reply text, to append to what was shown."""

    text: str


@dataclass
class Done:
    """The last event of a reply. `reply.text` is the whole text; it may differ from the deltas
    only when a guard replaced the reply (then `reply.details['replaced']` is true)."""

    reply: Reply


@dataclass
class Turn:
    """The state of one turn as it flows through the stages."""

    messages: list
    context: Context
    session: SessionState
    settings: Settings
    text: str = ""  # the player's last message
    language: str = "en"  # what to answer in: the message's language, else the locale's (ariane.i18n)
    passages: list = field(default_factory=list)  # grounding (ariane.prompt.Passage), best first
    game: GameContext | None = None  # game context for the prompt
    allow_generation: bool = True  # stages may forbid generated text (careful mode, low confidence)
    notes: dict = field(default_factory=dict)  # free-form stage outputs, copied into Reply.details


class Stage(Protocol):
    """One step of the pipeline: return a Reply to answer now, or None to go on."""

    name: str

    def __call__(self, turn: Turn) -> Reply | None: ...


class OutputGuard(Protocol):
    """Checks generated text before anyone sees it.

    `holdback` characters are kept back while streaming so that a forbidden string is caught
    before it is complete on screen; `check` returns a reason to refuse, or None.
    """

    name: str
    holdback: int

    def check(self, text: str, turn: Turn, final: bool) -> str | None: ...


class ChatEngine:
    """Stages → generation (or retrieval-only) → output guards.

    Args:
        model: ariane.model.ChatModel | None. None = retrieval-only mode.
        settings: ariane.settings.Settings. Generation defaults, locale, limits.
        stages: list of Stage. Run in order before generation.
        guards: list of OutputGuard. Run on generated text.
        notice: str | None. Shown with every reply (e.g. why there is no model).
    """

    def __init__(self, model=None, settings: Settings | None = None, stages=(), guards=(), notice: str | None = None, generator=None):
        self.model = model
        self.settings = settings or Settings()
        self.stages = list(stages)
        self.guards = list(guards)
        self.sessions = SessionStore()
        self.model_error: str | None = None  # why no model could be loaded (set by the pipeline)
        self.notice = notice if notice is not None else (None if model is not None else RETRIEVAL_ONLY_NOTICE)
        self.generator = generator
        if model is not None and generator is None:
            from ariane.generate import Generator

            self.generator = Generator(model)

    @property
    def model_id(self) -> str | None:
        return self.model.model_id if self.model is not None else None

    # ---- public API -------------------------------------------------------------------------
    def reply(self, messages, context: Context | None = None, generation: GenerationConfig | None = None) -> Iterator[Delta | Done]:
        """Stream the answer to the last user message of `messages`."""
        start = time.perf_counter()
        context = context or Context()
        turn = Turn(
            messages=normalize(messages),
            context=context,
            session=self.sessions.get(context.session_id),
            settings=self.settings,
        )
        turn.text = last_user_message(turn.messages)
        turn.language = language_of(turn.text, context.locale or self.settings.locale)
        timings: dict = {}
        final: Reply | None = None
        for stage in self.stages:
            t = time.perf_counter()
            final = stage(turn)
            timings[stage.name] = round(time.perf_counter() - t, 4)
            if final is not None:
                break
        if final is None:
            if self.model is not None and turn.language not in self.model.chat_format.languages:
                final = self.knowledge_answer(turn)  # GPT-2 writes English: a French turn gets the French curated answer
                final.details.setdefault("reason", f"the model writes {'/'.join(self.model.chat_format.languages)}, not {turn.language!r}")
            elif self.model is None or not turn.allow_generation:
                final = self.knowledge_answer(turn)
            else:
                final = yield from self._generate(turn, generation or self.settings.generation, timings)
        helpline = turn.notes.get("helpline")  # distress without a crisis: the answer, then a helpline line
        if helpline and final.mode not in ("crisis", "refused") and helpline not in final.text:
            final.text = f"{final.text}\n\n{helpline}"
            if final.mode == "generated" or final.details.get("replaced"):
                yield Delta(f"\n\n{helpline}")
        if final.mode != "generated" and not final.details.get("replaced"):
            yield Delta(final.text)  # non-generated text is shown in one piece
        final.timings = {**timings, **final.timings, "total_s": round(time.perf_counter() - start, 4)}
        final.details = {**turn.notes, **final.details, "session_id": turn.session.id}
        if final.notice is None:
            # A careful-mode reminder (helpline) wins; the no-model notice only explains answers
            # that a model would otherwise have written.
            notice = say("retrieval_only", turn.language) if self.notice == RETRIEVAL_ONLY_NOTICE else self.notice
            final.notice = turn.notes.get("careful") or (notice if final.mode in ("retrieved", "fallback") else None)
        yield Done(final)

    def answer(self, messages, context: Context | None = None, generation: GenerationConfig | None = None) -> Reply:
        """The whole reply at once (CLI, evaluation)."""
        for event in self.reply(messages, context, generation):
            if isinstance(event, Done):
                return event.reply
        raise RuntimeError("the engine ended without a reply")  # pragma: no cover

    # ---- answers without the model ----------------------------------------------------------
    def knowledge_answer(self, turn: Turn, reason: str | None = None) -> Reply:
        """The best knowledge entry, as curated; or a polite fallback when there is none."""
        details = {"reason": reason} if reason else {}
        if turn.passages:
            best = turn.passages[0]
            return Reply(best.answer, "retrieved", [best.id], details=details)
        if turn.notes.get("small_talk") and not reason:
            return Reply(say("small_talk", turn.language), "fallback", details={"reason": "small talk"})
        return Reply(say("fallback", turn.language), "fallback", details=details)

    # ---- generation -------------------------------------------------------------------------
    def _generate(self, turn: Turn, config: GenerationConfig, timings: dict):
        model = self.model
        fmt = model.chat_format
        budget = self.generator.max_length - config.max_new_tokens
        t = time.perf_counter()
        prompt = self._encode(turn, budget)
        timings["prompt_s"] = round(time.perf_counter() - t, 4)
        if prompt is None:  # not even one passage fits the window: the curated answer, unabridged
            return self.knowledge_answer(turn, reason="the grounding does not fit the model's context window")
        stops = ("\n" + fmt.user_label + ":", "\n" + fmt.assistant_label + ":")
        stream = self.generator.stream(prompt, config, stop_strings=stops)
        holdback = max((g.holdback for g in self.guards), default=0)
        shown, pending = "", ""
        for delta in stream:
            pending += delta
            reason = self._check(shown + pending, turn, final=False)
            if reason:
                return self._replace(turn, reason, shown, stream)
            release = len(pending) - holdback
            if release > 0:
                out, pending = pending[:release], pending[release:]
                shown += out
                yield Delta(out)
        text = (shown + pending).strip()
        reason = self._check(text, turn, final=True)
        if reason:
            return self._replace(turn, reason, shown, stream)
        if pending:
            yield Delta(pending)
        return Reply(
            text,
            "generated",
            [p.id for p in turn.passages[: turn.notes.get("passages_in_prompt", fmt.max_passages)]],
            model=model.model_id,
            prompt_format=fmt.version,
            timings=_stream_timings(stream),
            details={"stop_reason": stream.stop_reason, "prompt_tokens": len(prompt), "new_tokens": len(stream.token_ids)},
        )

    def _encode(self, turn: Turn, budget: int):
        """Prompt ids, dropping the weakest passages if the grounding does not fit; None if none fits."""
        from ariane.prompt import PromptTooLong

        fmt, passages = self.model.chat_format, list(turn.passages[: self.model.chat_format.max_passages])
        while True:
            try:
                prompt = fmt.encode(self.model.tokenizer, turn.messages, passages, turn.game, max_tokens=budget)
            except PromptTooLong:
                if len(passages) <= 1:
                    return None
                passages.pop()
                continue
            turn.notes["passages_in_prompt"] = len(passages)
            return prompt

    def _check(self, text: str, turn: Turn, final: bool) -> str | None:
        for guard in self.guards:
            reason = guard.check(text, turn, final)
            if reason:
                return f"{guard.name}: {reason}"
        return None

    def _replace(self, turn: Turn, reason: str, shown: str, stream) -> Reply:
        reply = self.knowledge_answer(turn, reason=reason)
        reply.mode = "fallback"
        reply.model = self.model_id
        reply.timings = _stream_timings(stream)
        reply.details.update({"replaced": bool(shown), "guard": reason})
        return reply


def _stream_timings(stream) -> dict:
    return {"first_token_s": round(stream.first_token_s or 0.0, 4), "generate_s": round(stream.total_s or 0.0, 4)}
