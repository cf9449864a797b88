"""The escape-room scenario: rooms → puzzles → hints ordered from subtle to obvious.

Read from `data/scenario.yaml` (see data/SCHEMA.md). A puzzle's `solution` may appear only in
hints at or after its `reveal_level`; `load_scenario` refuses a file that breaks this.

The same game in another language is `data/scenario.<lang>.yaml` (scenario.fr.yaml): the same
room and puzzle ids, reveal levels and number of hints, every text a player reads translated.
`scenario.in_language("fr")` gives it (the English one when there is none).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SCENARIO_FILE = DATA_DIR / "scenario.yaml"


@dataclass(frozen=True)
class Puzzle:
    id: str
    room: str  # room id
    title: str
    sees: str  # what the player sees
    solution: str
    hints: tuple  # level 1 (subtle) .. level n (obvious)
    reveal_level: int  # first 1-based hint level allowed to show the solution

    def leaks(self, text: str) -> bool:
        """True if `text` contains this puzzle's solution (case, spacing and punctuation ignored)."""
        return _norm(self.solution) in _norm(text)


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    intro: str
    puzzles: tuple = ()


@dataclass(frozen=True)
class Scenario:
    title: str
    intro: str
    rooms: tuple = ()
    puzzles: dict = field(default_factory=dict)  # puzzle id -> Puzzle
    language: str = "en"
    translations: dict = field(default_factory=dict, compare=False)  # language -> Scenario (same ids)

    def room(self, room_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def in_language(self, language: str) -> "Scenario":
        """This game in `language` (this one when it has no translation)."""
        return self.translations.get(language, self)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text).casefold())


def parse_scenario(data: dict, where: str = "scenario") -> Scenario:
    """Build and check a Scenario from parsed YAML; errors name the room/puzzle at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("rooms"), list):
        raise ValueError(f"{where}: expected a mapping with a 'rooms' list")
    rooms, puzzles = [], {}
    for i, r in enumerate(data["rooms"]):
        rw = f"{where}: rooms[{i}]"
        for key in ("id", "name", "puzzles"):
            if not r.get(key):
                raise ValueError(f"{rw}: missing '{key}'")
        room_puzzles = []
        for j, p in enumerate(r["puzzles"]):
            pw = f"{rw} ({r['id']}) puzzles[{j}]"
            for key in ("id", "title", "solution", "hints"):
                if not p.get(key):
                    raise ValueError(f"{pw}: missing '{key}'")
            hints = tuple(str(h) for h in p["hints"])
            reveal = int(p.get("reveal_level", len(hints)))
            if not 1 <= reveal <= len(hints):
                raise ValueError(f"{pw} ({p['id']}): reveal_level {reveal} is not between 1 and {len(hints)}")
            puzzle = Puzzle(p["id"], r["id"], p["title"], p.get("sees", ""), str(p["solution"]), hints, reveal)
            for level, hint in enumerate(hints[: reveal - 1], start=1):
                if puzzle.leaks(hint):
                    raise ValueError(f"{pw} ({p['id']}): hint level {level} shows the solution before reveal_level {reveal}")
            if p["id"] in puzzles:
                raise ValueError(f"{pw}: duplicate puzzle id {p['id']!r}")
            puzzles[p["id"]] = puzzle
            room_puzzles.append(puzzle)
        rooms.append(Room(r["id"], r["name"], r.get("intro", ""), tuple(room_puzzles)))
    return Scenario(str(data.get("title", "")), str(data.get("intro", "")), tuple(rooms), puzzles)


def check_translation(base: Scenario, other: Scenario, where: str) -> None:
    """Refuse a translation whose rooms, puzzles, hint counts or reveal levels differ from `base`'s."""
    if [r.id for r in other.rooms] != [r.id for r in base.rooms]:
        raise ValueError(f"{where}: rooms {[r.id for r in other.rooms]} differ from the English {[r.id for r in base.rooms]}; keep the same ids in the same order")
    for pid, p in base.puzzles.items():
        t = other.puzzles.get(pid)
        if t is None:
            raise ValueError(f"{where}: puzzle {pid!r} is missing; translate every puzzle")
        if t.room != p.room or len(t.hints) != len(p.hints) or t.reveal_level != p.reveal_level:
            raise ValueError(f"{where}: puzzle {pid!r} must keep the room, the {len(p.hints)} hint levels and reveal_level {p.reveal_level} of the English one")
    extra = set(other.puzzles) - set(base.puzzles)
    if extra:
        raise ValueError(f"{where}: puzzles {sorted(extra)} are not in the English scenario")


@functools.lru_cache(maxsize=4)
def load_scenario(path=SCENARIO_FILE) -> Scenario:
    """The scenario of `path`, with its translations (`<stem>.<lang>.yaml` next to it)."""
    from ariane.files import read_yaml

    path = Path(path)
    base = parse_scenario(read_yaml(path, "scenario file"), str(path))
    for other_path in sorted(path.parent.glob(f"{path.stem}.*{path.suffix}")):
        language = other_path.suffixes[-2].lstrip(".") if len(other_path.suffixes) >= 2 else ""
        if not re.fullmatch(r"[a-z]{2}", language):
            continue
        other = parse_scenario(read_yaml(other_path, "scenario file"), str(other_path))
        check_translation(base, other, str(other_path))
        base.translations[language] = replace(other, language=language)
    return base
