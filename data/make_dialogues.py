#!/usr/bin/env python3
"""Build templated training dialogues for Ariane.

Reads, from a data directory (default: the folder holding this script):
  - qa/*.jsonl       Q&A entries (only status "approved" are used)
  - scenario.yaml    the escape-room scenario with graded hints
and writes dialogues/templated.jsonl in the format of SCHEMA.md:
  - 1-2 "qa" dialogues per approved entry (question or a paraphrase, with light
    framing; some start with a greeting exchange or end with thanks -> closing);
  - "hint" dialogues: for every puzzle and every hint level, stuck messages
    answered with exactly that level's hint text.

The output is deterministic: every random choice comes from a generator seeded
with (seed, item key), so adding an entry does not change the choices made for
the others. Malformed lines and entries missing fields are skipped with a
warning on stderr, so the script works on partially written Q&A files.

Usage: python3 data/make_dialogues.py [DATA_DIR] [--out FILE] [--seed N]
Needs only the standard library and PyYAML.
"""

import argparse
import glob
import hashlib
import json
import os
import random
import sys

DEFAULT_SEED = 20261123
HINT_VARIANTS_PER_LEVEL = 2

# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

# Framing for a Q&A user turn; "{q}" is the question as written, "{ql}" the
# question with a lower-cased first letter (for mid-sentence use).
# QUESTION_FRAMES only suit phrasings that are questions (ending with "?");
# statements such as "I can't stop saying yes to everything" get ANY_FRAMES.
ANY_FRAMES = [
    "{q}",
    "{q}",
    "Hi Ariane, {ql}",
]
QUESTION_FRAMES = ANY_FRAMES + [
    "Quick question: {q}",
    "During the debrief someone asked: {q}",
    "Something I've been wondering: {q}",
    "Can I ask you something? {q}",
]

GREETINGS = [
    ("Hi Ariane!", "Hi! I can help with the game or with questions about wellbeing at work. What's on your mind?"),
    ("Hello", "Hello! What can I help you with today?"),
    ("hey", "Hi there! Ask me anything about the game or about wellbeing at work."),
    ("Good afternoon!", "Good afternoon! How can I help?"),
]

THANKS = [
    ("Thanks, that helps.", "You're welcome. Take care, and come back any time."),
    ("thank you!", "Glad I could help. Take care!"),
    ("Ok, thanks Ariane", "You're welcome! I'm here if anything else comes up."),
    ("Great, thanks.", "Happy to help. Look after yourself!"),
]

# Stuck messages by hint level. "{t}" = the puzzle as referred to
# mid-sentence ("the overflowing inbox", "Sam's unanswered messages");
# "{room}" = room name.
STUCK_FIRST = [
    "I'm stuck on {t}",
    "any hint for {t}?",
    "what do I do with {t}?",
    "Can I get a hint for {t}?",
    "help, {t} makes no sense to me",
    "We're in {room} and we can't figure out {t}.",
    "hint please: {t}",
    "what am I supposed to do with {t}?",
]
STUCK_AGAIN = [
    "Still stuck on {t}, another hint?",
    "I need a bit more help with {t}.",
    "that didn't help, any other hint for {t}?",
    "Can you give me a clearer hint for {t}?",
    "We tried that and we're still stuck on {t}.",
    "still lost on {t}",
]
STUCK_LAST = [
    "I give up on {t}, what's the answer?",
    "We've tried everything with {t}. Can you just tell us?",
    "Please just give me the solution for {t}.",
    "ok I really can't do {t}, tell me",
    "We've used all the hints for {t} and we're still stuck.",
]

HINT_LEADS = {
    1: ["", "", "Here's a gentle nudge.", "Here's a small hint.", "Let's start small."],
    2: ["", "Here's a clearer hint.", "Let's go one step further.", "Sure.", "No problem."],
    3: ["Here's a very clear hint.", "You're close.", "Let's spell it out a bit more.", ""],
    4: ["Here's the answer.", "Alright, here it is.", "No problem, here's the solution.", ""],
}

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def rng_for(seed, key):
    """A random generator that depends only on the seed and a stable key."""
    digest = hashlib.sha256(f"{seed}:{key}".encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def warn(msg):
    print(f"make_dialogues: {msg}", file=sys.stderr)


def lower_first(text):
    """Lower-case the first letter unless it starts a word like 'I' or 'GP'."""
    if not text:
        return text
    first_word = text.split()[0]
    if first_word in ("I", "I'm", "I've", "I'd", "I'll") or (
        len(first_word) > 1 and first_word[:2].isupper()
    ):
        return text
    return text[0].lower() + text[1:]


def clean(text):
    return " ".join(str(text).split())


def msg(role, content):
    return {"role": role, "content": content}


def context(sources=None, room=None, puzzle=None, hint_level=None):
    return {"sources": list(sources or []), "room": room, "puzzle": puzzle,
            "hint_level": hint_level}


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load_qa(data_dir):
    """Approved English Q&A entries from qa/*.jsonl, sorted by id, duplicates dropped."""
    entries = {}
    for path in sorted(glob.glob(os.path.join(data_dir, "qa", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    warn(f"{path}:{lineno}: not valid JSON, skipped")
                    continue
                if not isinstance(entry, dict):
                    continue
                if str(entry.get("status", "")).strip().lower() != "approved":
                    continue
                if str(entry.get("language") or "en") != "en":
                    continue  # GPT-2 writes English: the dialogues are English (French entries are answered as curated)
                eid = entry.get("id")
                question = entry.get("question")
                answer = entry.get("answer")
                if not (isinstance(eid, str) and eid and isinstance(question, str)
                        and question.strip() and isinstance(answer, str) and answer.strip()):
                    warn(f"{path}:{lineno}: missing id/question/answer, skipped")
                    continue
                if eid in entries:
                    warn(f"{path}:{lineno}: duplicate id {eid}, skipped")
                    continue
                paraphrases = entry.get("paraphrases") or []
                if not isinstance(paraphrases, list):
                    paraphrases = []
                entries[eid] = {
                    "id": eid,
                    "question": clean(question),
                    "paraphrases": [clean(p) for p in paraphrases
                                    if isinstance(p, str) and p.strip()],
                    "answer": clean(answer),
                }
    return [entries[k] for k in sorted(entries)]


def load_scenario(data_dir):
    path = os.path.join(data_dir, "scenario.yaml")
    if not os.path.exists(path):
        warn(f"{path} not found, no hint dialogues")
        return None
    import yaml  # PyYAML; imported here so the Q&A part works without it

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# --------------------------------------------------------------------------
# Dialogue builders
# --------------------------------------------------------------------------


def qa_dialogues(entry, seed):
    """1-2 dialogues for one approved entry."""
    rng = rng_for(seed, "qa:" + entry["id"])
    phrasings = [entry["question"]] + entry["paraphrases"]
    answer = entry["answer"]
    ctx = context(sources=[entry["id"]])

    def framed(q):
        frame = rng.choice(QUESTION_FRAMES if q.rstrip().endswith("?") else ANY_FRAMES)
        return frame.format(q=q, ql=lower_first(q))

    first_q = rng.choice(phrasings)
    out = [[msg("user", framed(first_q)), msg("assistant", answer)]]

    # Second dialogue for about half the entries, with another phrasing when
    # there is one, as a multi-turn variant.
    if rng.random() < 0.5:
        others = [p for p in phrasings if p != first_q] or phrasings
        q = rng.choice(others)
        variant = rng.choice(["greeting", "thanks", "both"])
        messages = []
        if variant in ("greeting", "both"):
            hello, reply = rng.choice(GREETINGS)
            messages += [msg("user", hello), msg("assistant", reply)]
            messages.append(msg("user", q))
        else:
            messages.append(msg("user", framed(q)))
        messages.append(msg("assistant", answer))
        if variant in ("thanks", "both"):
            thanks, closing = rng.choice(THANKS)
            messages += [msg("user", thanks), msg("assistant", closing)]
        out.append(messages)

    return [("qa", m, ctx, entry["id"]) for m in out]


def puzzle_phrase(title):
    """How to refer to a puzzle mid-sentence: "The wilting plant" -> "the
    wilting plant", "Sam's unanswered messages" stays as it is."""
    t = clean(title)
    for article in ("The ", "A ", "An "):
        if t.lower().startswith(article.lower()):
            return article.lower() + t[len(article):]
    return t


def hint_dialogues(scenario, seed):
    out = []
    if not scenario:
        return out
    for room in scenario.get("rooms") or []:
        for puzzle in room.get("puzzles") or []:
            hints = puzzle.get("hints") or []
            t = puzzle_phrase(puzzle.get("title") or puzzle.get("id", "puzzle"))
            for level, hint in enumerate(hints, 1):
                if level == 1:
                    pool = STUCK_FIRST
                elif level < len(hints):
                    pool = STUCK_AGAIN
                else:
                    pool = STUCK_LAST
                rng = rng_for(seed, f"hint:{puzzle.get('id')}:{level}")
                n = min(HINT_VARIANTS_PER_LEVEL, len(pool))
                for template in rng.sample(pool, n):
                    user = template.format(t=t, room=puzzle_phrase(room.get("name") or "this room"))
                    user = user[0].upper() + user[1:] if rng.random() < 0.6 else user
                    lead = rng.choice(HINT_LEADS[4] if level == len(hints) else HINT_LEADS[min(level, 3)])
                    assistant = f"{lead} {clean(hint)}".strip()
                    ctx = context(room=room.get("id"), puzzle=puzzle.get("id"),
                                  hint_level=level)
                    out.append(("hint", [msg("user", user), msg("assistant", assistant)],
                                ctx, None))
    return out


def check(dialogue):
    """Raise ValueError if a dialogue breaks the message rules."""
    messages = dialogue["messages"]
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError(f"{dialogue['id']}: must end with an assistant turn")
    for i, m in enumerate(messages):
        expected = "user" if i % 2 == 0 else "assistant"
        if m["role"] != expected or not m["content"].strip():
            raise ValueError(f"{dialogue['id']}: bad message {i}")


def build(data_dir, seed=DEFAULT_SEED):
    items = []
    for entry in load_qa(data_dir):
        items += qa_dialogues(entry, seed)
    items += hint_dialogues(load_scenario(data_dir), seed)
    dialogues = []
    for n, (kind, messages, ctx, entry_id) in enumerate(items, 1):
        d = {"id": f"dlg-tpl-{n:04d}", "kind": kind, "messages": messages,
             "context": ctx, "entry_id": entry_id}
        check(d)
        dialogues.append(d)
    return dialogues


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=here,
                        help="data directory holding qa/ and scenario.yaml (default: %(default)s)")
    parser.add_argument("--out", default=None,
                        help="output file (default: DATA_DIR/dialogues/templated.jsonl)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    out_path = args.out or os.path.join(args.data_dir, "dialogues", "templated.jsonl")
    dialogues = build(args.data_dir, args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for d in dialogues:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    os.replace(tmp, out_path)

    counts = {}
    for d in dialogues:
        counts[d["kind"]] = counts.get(d["kind"], 0) + 1
    entries = len({d["entry_id"] for d in dialogues if d["entry_id"]})
    print(f"wrote {len(dialogues)} dialogues to {out_path} "
          f"({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}; "
          f"{entries} Q&A entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
