"""Text normalisation shared by the crisis detector and its patterns, and a tiny language guess.

`normalise` makes the many ways people type one phrase look the same: "I'm gonna K1LL myseeelf!!"
and "im gonna kill myself" both become `im gona kil myself`. The same steps are applied to the
patterns (`normalise_pattern`), so patterns are written in ordinary spelling.

Example:
    >>> normalise("Je ne vois plus de raison de continuer…")
    'je ne vois plus de raison de continuer'
    >>> normalise("everyone would be BETTER OFF without me")
    'everyone would be beter of without me'
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = "'’‘ʼ`´′"  # removed: "can't" -> "cant", "j'ai" -> "jai" (how people type without them)
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})  # not decomposed by NFKD
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"})
_LEET_RUN = re.compile(r"(?:(?<=[a-z])|(?<![a-z0-9@$!|]))[0134579@$!|]+(?=[a-z])")  # inside or leading a word: k1ll, $uicide
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:am|pm|h|hr|hrs|min|mins|s|k|kg|km|kms|g|mg|ml|st|nd|rd|th|x|ish|pc|pcs)")  # 4am, 10mg: not leetspeak
_TOKEN = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1+")


def strip_accents(text: str) -> str:
    """'Désespéré' -> 'Desespere' (decomposes, then drops the combining marks)."""
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c))


def collapse_repeats(text: str) -> str:
    """Runs of one letter become one letter: 'sooo' -> 'so', 'kill' -> 'kil', 'off' -> 'of'."""
    return _REPEATS.sub(r"\1", text)


def _unleet(m: re.Match) -> str:
    token = m.group(0)
    core = token.strip(".,;:!?()[]\"'")
    if _NUMBER_WITH_UNIT.fullmatch(core):
        return token
    return _LEET_RUN.sub(lambda r: r.group(0).translate(LEET), token)


def normalise(text: str) -> str:
    """Casefold, strip accents and apostrophes, undo leetspeak inside words, keep only letters and
    digits (one space between words), collapse repeated letters."""
    text = strip_accents(str(text).casefold()).casefold()
    for a in APOSTROPHES:
        text = text.replace(a, "")
    text = _TOKEN.sub(_unleet, text)
    text = _NOT_WORD.sub(" ", text).strip()
    return collapse_repeats(text)


def normalise_pattern(pattern: str) -> str:
    """Apply `normalise`'s letter rules to the literal letters of a regular expression.

    Escapes (`\\b`, `\\w`, ...) are kept whole, so `\\bbetter off` becomes `\\bbeter of`.
    """
    out: list[str] = []
    prev = ""  # the previous literal letter, "" after anything else
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            prev, i = "", i + 2
            continue
        i += 1
        if c in APOSTROPHES:
            continue
        for ch in strip_accents(c.casefold()):
            if ch.isalpha() and ch.isascii():
                if ch == prev:
                    continue
                prev = ch
            else:
                prev = ""
            out.append(ch)
    return "".join(out)


_FR_WORDS = frozenset(collapse_repeats(w) for w in (
    "je j jai jen me moi ma mon mes tu te toi ton ta il elle ils elles nous vous on le la les un une des du de "
    "et est suis es sont pas plus ne ni que qui quoi quand comment pourquoi avec pour sans tout tous rien "
    "personne ca cest cet cette ces dans sur chez mais ou donc car envie veux peux vais fait faire etre avoir "
    "aide aider collegue travail boulot enigme indice salle vie mourir merci bonjour oui non aussi tres trop".split()
))
_EN_WORDS = frozenset(collapse_repeats(w) for w in (
    "i im ive id me my mine you your he she it its we they them the a an and or but is are was were be been "
    "am to of in on at for with without from this that these those what when why how who not no dont cant "
    "wont just want need feel like can could would should will do does did have has had help hint puzzle "
    "room work colleague anymore everyone nobody life die please thanks hello yes".split()
))


def guess_language(text: str, default: str = "en") -> str:
    """'fr' or 'en', by counting common words (accents count for French); ties give `default`.

    Example:
        >>> guess_language("j'ai plus envie de rien"), guess_language("I can't sleep")
        ('fr', 'en')
    """
    raw = str(text).casefold()
    words = normalise(raw).split()
    fr = sum(w in _FR_WORDS for w in words) + sum(c in "éèêàùçôîœ" for c in raw)
    en = sum(w in _EN_WORDS for w in words)
    if fr > en:
        return "fr"
    if en > fr:
        return "en"
    return default if default in ("en", "fr") else "en"


def ends(text: str, limit: int) -> str:
    """`text`, or its first and last `limit // 2` characters when it is longer (a long message
    often says what matters last)."""
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} … {text[-half:]}"
