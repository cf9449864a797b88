"""The hint stage: graded escape-game hints, one level more each time a player asks.

The puzzle comes from `Context.puzzle`, else from the message (puzzle titles and the words of
what the player sees), else from the last puzzle this session asked about. A hint request —
the Hint button (`Context.hint`) or a message asking for a hint, help, the answer or the
solution — gets the *next* level for this session and puzzle (`SessionState.hints`), and the
last level again once all are used. Whatever the message says, the reply is a scenario hint
text: a solution appears only at the puzzle's `reveal_level`, which `load_scenario` checks.

A message about a known puzzle that is not a hint request sets `turn.game`, with the hint the
player has reached, so a generated reply stays within it.

Example:
    >>> stage = HintStage()
    >>> reply = stage(turn)           # turn.text == "any hint for the wilting plant?"
    >>> reply.mode, reply.details["level"]
    ('hint', 1)
"""

from __future__ import annotations

import re

from ariane.engine import Reply, Turn
from ariane.i18n import LANGUAGES, say
from ariane.knowledge.retrieval import tokenize
from ariane.knowledge.scenario import Puzzle, Scenario, load_scenario
from ariane.prompt import GameContext

# A message asking for game help. Strong words name the game itself; weak words ("help",
# "stuck") count only when the puzzle is known, so "I feel stuck in my job" reaches retrieval.
STRONG_REQUEST = re.compile(
    r"\b(hints?|clues?|solutions?|the answers?|solve[ds]?|code|password|combination|spoil(er)?|walkthrough|reveal|"
    r"indices?|soluce|la r[ée]ponse|r[ée]soudre|mot de passe|combinaison|divulgach[ée]r?)\b", re.I
)
GAME_WORDS = re.compile(r"\b(hints?|clues?|solutions?|walkthrough|spoil(er)?|cheat|indices?|soluce)\b", re.I)
WEAK_REQUEST = re.compile(
    r"\b(help|stuck|lost|give up|no idea|don'?t get|can'?t (figure|work out|find|open|solve|do)|"
    r"what (do|should|am) (i|we)|how (do|can|should) (i|we)|nudge|tell (me|us)|another|more|clearer|still|"
    r"aide[sz]?(-| )?(moi|nous)?|aider|je bloque|on bloque|bloqu[ée]e?s?|coinc[ée]e?s?|perdue?s?|je s[èe]che|"
    r"(j'?y|on y) arrive pas|je (ne )?comprends? pas|je (ne )?trouve pas|on fait quoi|que faire|comment (on fait|faire)|"
    r"un autre|encore|plus clair|toujours pas|j'?abandonne)\b",
    re.I,
)
ABOUT_GAME = re.compile(
    r"\b(puzzle|room|game|riddle|(pad)?lock(ed)?|door|escape|level|enigma|[ée]nigmes?|salles?|jeux?|cadenas|portes?|serrures?|niveaux?)s?\b",
    re.I,
)
GENERIC = frozenset(  # scene words too common in players' talk to point at a puzzle
    "never stop from same since right next read sit far one all every some few thing something whole only under "
    "beside behind say show seem work team day week time people office note".split()
)
TITLE_WEIGHT = 2.0  # a word of the puzzle's title counts twice a word of what the player sees
MIN_MATCH = 1.5  # least weight of shared words to guess a puzzle: a title word, or two words only its scene has


class HintStage:
    """Engine stage "hints": gives graded hints and sets the game context.

    Args:
        scenario: Scenario | None. Defaults to data/scenario.yaml.
    """

    name = "hints"

    def __init__(self, scenario: Scenario | None = None):
        self.scenario = scenario or load_scenario()
        self._keywords = {lang: self._build_keywords(self.scenario.in_language(lang), lang) for lang in LANGUAGES}

    def __call__(self, turn: Turn) -> Reply | None:
        ctx = turn.context
        text = turn.text or ""
        mentioned = self.guess_puzzle(text, ctx.room, turn.language)
        puzzle = self.scenario.puzzles.get(ctx.puzzle or "") or mentioned
        strong = bool(STRONG_REQUEST.search(text))
        if puzzle is None and turn.session.hints and (ctx.hint or (strong and self._follows_up(text))):
            puzzle = self.scenario.puzzles.get(next(reversed(turn.session.hints)))  # the last puzzle hinted
        # A puzzle selected on the page stays selected during the debrief: a long question with no
        # game words ("How can I tell if I'm heading for burnout?") is a wellbeing question, not a hint request.
        game_talk = mentioned is not None or self._about_game(text) or len(text.split()) <= 8
        unambiguous = bool(GAME_WORDS.search(text))  # "hint", "clue", "solution": never about wellbeing
        asks = ctx.hint or (puzzle is not None and (unambiguous or (game_talk and (strong or bool(WEAK_REQUEST.search(text))))))
        if puzzle is None:
            if ctx.hint or (strong and self._about_game(text)):
                return self._which_puzzle(ctx.room, turn.language)
            return None
        if asks:
            return self.give_hint(turn, puzzle)
        level = turn.session.hints.get(puzzle.id, 0)
        turn.game = self.game_context(puzzle, level, turn.language)
        turn.notes["hints"] = {"puzzle": puzzle.id, "level": level or None}
        return None

    # ---- hints -------------------------------------------------------------------------------
    def give_hint(self, turn: Turn, puzzle: Puzzle) -> Reply:
        """The next level of `puzzle`'s hints for this session (the last one again when all are used)."""
        hints = turn.session.hints
        previous = hints.pop(puzzle.id, 0)
        level = min(previous + 1, len(puzzle.hints))
        hints[puzzle.id] = level  # re-inserted last: "another hint" without a puzzle means this one
        turn.game = self.game_context(puzzle, level, turn.language)
        shown = self.scenario.in_language(turn.language).puzzles[puzzle.id]  # the same puzzle in the player's language
        text = say("hint", turn.language, level=level, total=len(shown.hints), title=shown.title, hint=shown.hints[level - 1])
        if previous >= len(puzzle.hints):
            text += say("last_hint", turn.language)
        details = {
            "puzzle": puzzle.id,
            "room": puzzle.room,
            "level": level,
            "levels": len(puzzle.hints),
            "hints_used": sum(hints.values()),
        }
        return Reply(text, "hint", details=details)

    def game_context(self, puzzle: Puzzle, level: int, language: str = "en") -> GameContext:
        """What the prompt says about the game: the room, the puzzle and the hint reached (if any),
        in `language`."""
        scenario = self.scenario.in_language(language)
        puzzle = scenario.puzzles.get(puzzle.id, puzzle)
        room = scenario.room(puzzle.room)
        return GameContext(
            room=room.name if room else puzzle.room,
            puzzle=puzzle.title,
            hint_level=level or None,
            hint_total=len(puzzle.hints),
            hint=puzzle.hints[level - 1] if level else None,
        )

    # ---- finding the puzzle ------------------------------------------------------------------
    def guess_puzzle(self, text: str, room: str | None = None, language: str = "en") -> Puzzle | None:
        """The puzzle a message is about, from its words; None if none or two are equally likely.

        Args:
            text: str. The player's message.
            room: str | None. Room id: only its puzzles are considered when it is known.
            language: str. The message's language (the puzzles' words in that language count).
        """
        keywords = self._keywords.get(language, self._keywords[LANGUAGES[0]])
        words = set(tokenize(text, language))
        if not words:
            return None
        scored = []
        for puzzle in self.scenario.puzzles.values():
            if room and puzzle.room != room and self.scenario.room(room) is not None:
                continue
            weights = keywords[puzzle.id]
            scored.append((sum(weights.get(w, 0.0) for w in words), puzzle.id))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < MIN_MATCH or (len(scored) > 1 and scored[1][0] == scored[0][0]):
            return None
        return self.scenario.puzzles[scored[0][1]]

    @staticmethod
    def _build_keywords(scenario: Scenario, language: str) -> dict[str, dict[str, float]]:
        """Per puzzle, word -> weight: title words count double, and a word shared by several
        puzzles is divided among them (so "desk" or "lock" alone decides nothing)."""
        raw = {}
        for p in scenario.puzzles.values():
            weights: dict[str, float] = {}
            for w in tokenize(p.sees, language):
                weights[w] = 1.0
            for w in tokenize(p.title, language):
                weights[w] = TITLE_WEIGHT
            weights = {w: v for w, v in weights.items() if w not in GENERIC}
            raw[p.id] = weights
        df: dict[str, int] = {}
        for weights in raw.values():
            for w in weights:
                df[w] = df.get(w, 0) + 1
        return {pid: {w: v / df[w] for w, v in weights.items()} for pid, weights in raw.items()}

    def _follows_up(self, text: str) -> bool:
        """A short or game-worded request ("just give me the code") continues the last puzzle;
        a longer question that happens to say "code" ("is there a dress code for ...") does not."""
        return len(text.split()) <= 8 or self._about_game(text) or bool(WEAK_REQUEST.search(text))

    def _about_game(self, text: str) -> bool:
        if re.search(r"\b(ignore|forget|override)\b.{0,30}\b(instructions?|rules?|prompt)\b|\bdebug mode\b", text, re.I):
            return True  # a jailbreak attempt is about the game: it gets the next hint, nothing more
        return bool(ABOUT_GAME.search(text))

    def _which_puzzle(self, room_id: str | None, language: str = "en") -> Reply:
        scenario = self.scenario.in_language(language)
        room = scenario.room(room_id) if room_id else None
        puzzles = room.puzzles if room else tuple(scenario.puzzles.values())
        names = "; ".join(p.title for p in puzzles)
        where = say("in_room", language, room=room.name) if room else say("all_puzzles", language)
        text = say("which_puzzle", language, where=where, names=names)
        return Reply(text, "hint", details={"puzzle": None, "level": None, "levels": None, "hints_used": None})
