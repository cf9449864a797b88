"""The chat prompt format: the only place that turns messages into GPT-2 text.

Fine-tuning, evaluation and serving all call `ChatFormat.encode`/`encode_for_training`; a
fine-tuned model directory stores its `ChatFormat` (as `ariane_chat_format.json`) and loading
reads it back, so a model is always prompted the way it was trained.

Layout of format `ariane-chat-v1` (`<eot>` is GPT-2's `<|endoftext|>`, one token)::

    Ariane is the guide of an escape game about mental health at work. ...
    Knowledge:
    - [stress-001] What is work-related stress? Work-related stress is ...
    Game: room "The Open Space", puzzle "The overflowing inbox". Hint 2 of 4: Look at ...
    Player: I'm stuck on the inbox
    Ariane: Try sorting by what matters most.<eot>
    Player: still stuck
    Ariane:

Only the assistant's words and the `<eot>` that ends them are learned in fine-tuning.
Over-long prompts lose their oldest turns first; the knowledge and game lines are never cut.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ariane.messages import Message, normalize

FORMAT_FILE = "ariane_chat_format.json"
SUPPORTED_VERSIONS = ("ariane-chat-v1",)


@dataclass(frozen=True)
class Passage:
    """A knowledge entry used as grounding."""

    id: str
    question: str
    answer: str
    score: float = 0.0


@dataclass(frozen=True)
class GameContext:
    """Where the player is in the escape game, and the hint the engine chose for this turn."""

    room: str | None = None  # room name (or id)
    puzzle: str | None = None  # puzzle title (or id)
    hint_level: int | None = None  # 1-based level of `hint`
    hint_total: int | None = None  # number of levels for this puzzle
    hint: str | None = None  # the hint text the reply must stay within


class PromptTooLong(ValueError):
    """Even the grounding and the last message do not fit the model's context window."""


@dataclass(frozen=True)
class ChatFormat:
    """A versioned prompt format. Saved next to the weights; change `version` when the layout changes."""

    version: str = "ariane-chat-v1"  # id saved with the weights; loading refuses unknown versions
    system: str = (  # first line of every prompt
        "Ariane is the guide of an escape game about mental health at work. She answers kindly and "
        "briefly, from the knowledge below, and never gives a puzzle's solution before its hint does."
    )
    user_label: str = "Player"  # speaker label of user turns
    assistant_label: str = "Ariane"  # speaker label of assistant turns
    end_of_turn: str = "<|endoftext|>"  # GPT-2's end-of-text token ends every assistant turn
    max_passages: int = 3  # knowledge entries placed in the prompt
    max_passage_chars: int = 700  # each entry's text is cut to this length (about 160 tokens)
    languages: tuple = ("en",)  # what the model writes (GPT-2: English); a turn in another language gets the curated answer

    def __post_init__(self):
        object.__setattr__(self, "languages", tuple(self.languages))  # a list when read from JSON
        if self.version not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"prompt format {self.version!r} is not supported by this version of Ariane "
                f"(supported: {', '.join(SUPPORTED_VERSIONS)}); upgrade Ariane or retrain the model"
            )

    # ---- text pieces -------------------------------------------------------------------------
    def clean(self, text: str) -> str:
        """Player/assistant text as it may appear in a prompt: no end-of-turn marker, no speaker forging."""
        text = text.replace(self.end_of_turn, " ").replace("\r\n", "\n").replace("\r", "\n")
        text = re.sub(r"\n\s*\n+", "\n", text.strip())
        # A line starting with a speaker label would fake a turn: keep it as quoted text.
        labels = "|".join(re.escape(x) for x in (self.user_label, self.assistant_label))
        return re.sub(rf"(?m)^({labels}):", r"\1 -", text)

    def header(self, passages=(), game: GameContext | None = None) -> str:
        lines = [self.system]
        passages = list(passages)[: self.max_passages]
        if passages:
            lines.append("Knowledge:")
            for p in passages:
                body = f"{self.clean(p.question)} {self.clean(p.answer)}".replace("\n", " ")
                if len(body) > self.max_passage_chars:
                    body = body[: self.max_passage_chars].rsplit(" ", 1)[0] + " …"
                lines.append(f"- [{p.id}] {body}")
        if game is not None and (game.room or game.puzzle):
            line = f'Game: room "{game.room or "?"}", puzzle "{game.puzzle or "?"}".'
            if game.hint:
                total = f" of {game.hint_total}" if game.hint_total else ""
                line += f" Hint {game.hint_level}{total}: {self.clean(game.hint)}"
            lines.append(line.replace("\n", " "))
        return "\n".join(lines) + "\n"

    def render(self, messages, passages=(), game: GameContext | None = None, *, add_generation_prompt=True) -> str:
        """The prompt as text (for reading and notebooks; models get `encode`)."""
        parts = [self.header(passages, game)]
        for m in normalize(messages):
            if m["role"] == "user":
                parts.append(f"{self.user_label}: {self.clean(m['content'])}\n")
            else:
                parts.append(f"{self.assistant_label}: {self.clean(m['content'])}{self.end_of_turn}\n")
        if add_generation_prompt:
            parts.append(f"{self.assistant_label}:")
        return "".join(parts)

    # ---- token ids ---------------------------------------------------------------------------
    def _turns(self, tokenizer, messages: list[Message]):
        """(ids, trainable mask) per message, tokenized piece by piece exactly as generation sees them."""
        eot = [tokenizer.end_token_id]
        newline = tokenizer.encode("\n")
        label = tokenizer.encode(f"{self.assistant_label}:")
        turns = []
        for m in messages:
            if m["role"] == "user":
                ids = tokenizer.encode(f"{self.user_label}: {self.clean(m['content'])}\n")
                turns.append((ids, [0] * len(ids)))
            else:
                reply = tokenizer.encode(" " + self.clean(m["content"])) + eot
                ids = label + reply + newline
                turns.append((ids, [0] * len(label) + [1] * len(reply) + [0] * len(newline)))
        return turns

    def encode(self, tokenizer, messages, passages=(), game: GameContext | None = None, *, max_tokens: int) -> list[int]:
        """Prompt token ids ending with the assistant label, at most `max_tokens` long.

        Oldest turns are dropped first; if the last message alone is still too long, its beginning
        is cut. Raises PromptTooLong when the header (system, knowledge, game) leaves no room.
        """
        messages = normalize(messages)
        if not messages or messages[-1]["role"] != "user":
            raise ValueError("messages: the conversation must end with a user message to be answered")
        head = tokenizer.encode(self.header(passages, game))
        tail = tokenizer.encode(f"{self.assistant_label}:")
        turns = [ids for ids, _ in self._turns(tokenizer, messages)]
        budget = max_tokens - len(head) - len(tail)
        kept: list[list[int]] = []
        used = 0
        for ids in reversed(turns):
            if used + len(ids) > budget:
                break
            kept.insert(0, ids)
            used += len(ids)
        if not kept:  # the last user message alone is too long: keep its end
            label, newline = tokenizer.encode(f"{self.user_label}:"), tokenizer.encode("\n")
            words = turns[-1][len(label) : len(turns[-1]) - len(newline)]
            room = budget - len(label) - len(newline)
            if room < 8:
                raise PromptTooLong(
                    f"the knowledge and game context take {len(head) + len(tail)} of {max_tokens} tokens; "
                    "lower ChatFormat.max_passages/max_passage_chars or raise the context length"
                )
            kept = [label + words[-room:] + newline]
        return head + [t for ids in kept for t in ids] + tail

    def encode_for_training(self, tokenizer, messages, passages=(), game: GameContext | None = None, *, max_tokens: int):
        """(token ids, loss mask) for a whole dialogue; mask is 1 on assistant words and their `<eot>`.

        Oldest turns are dropped until it fits; returns None if not even the last exchange fits.
        """
        messages = normalize(messages)
        if not any(m["role"] == "assistant" for m in messages):
            raise ValueError("messages: a training dialogue needs at least one assistant turn")
        head = tokenizer.encode(self.header(passages, game))
        turns = self._turns(tokenizer, messages)
        while turns and len(head) + sum(len(ids) for ids, _ in turns) > max_tokens:
            turns = turns[1:]
        if not any(sum(mask) for _, mask in turns):
            return None
        ids = head + [t for i, _ in turns for t in i]
        mask = [0] * len(head) + [b for _, m in turns for b in m]
        return ids, mask

    # ---- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, directory) -> Path:
        path = Path(directory) / FORMAT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> "ChatFormat":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{FORMAT_FILE}: unknown fields {sorted(unknown)}; was it written by a newer Ariane?")
        return cls(**data)

    @classmethod
    def load(cls, path) -> "ChatFormat":
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None


DEFAULT_FORMAT = ChatFormat()
