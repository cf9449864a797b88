"""The languages Ariane speaks, which one a message is in, and the engine's own sentences in each.

A turn is answered in the language of the player's message; when the message does not say (too
short, only names), in the language of the page's locale (the browser's), else the server's
(`ARIANE_LOCALE`). The knowledge base holds an entry per language (see data/SCHEMA.md); the
safety replies and refusals keep their own tables next to their code (ariane/safety/replies.py,
ariane/safety/input_checks.py). The page's and the console's labels are in ariane/web/strings.py.

Example:
    >>> language_of("Comment gérer le stress au travail ?", "en-GB")
    'fr'
    >>> say("fallback", "fr")[:28]
    "Je ne suis pas sûre d'avoir "
"""

from __future__ import annotations

from ariane.safety.text import guess_language

LANGUAGES = ("en", "fr")  # languages with curated answers, hints and replies; the first is the default
NAMES = {"en": "English", "fr": "Français"}


def language_of_locale(locale: str | None) -> str:
    """'fr' for 'fr-FR' or 'fr', 'en' for anything Ariane does not speak."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else LANGUAGES[0]


def language_of(text: str, locale: str | None) -> str:
    """The language to answer `text` in: the message's, else the locale's."""
    return guess_language(text, default=language_of_locale(locale))


SENTENCES = {
    "en": {
        "fallback": (
            "I'm not sure I have a good answer to that. I can help with the escape game (ask for a hint) "
            "and with questions about wellbeing at work — or ask your session's mediator."
        ),
        "small_talk": (
            "Hello, I'm Ariane, the game's guide. Press \"Hint\" or tell me which puzzle you're stuck on, "
            "or ask me anything about wellbeing at work."
        ),
        "retrieval_only": "Ariane is running without a generative model: answers come straight from the mediators' knowledge base.",
        "hint": "Hint {level} of {total} ({title}): {hint}",
        "last_hint": " That was the last hint for this puzzle.",
        "which_puzzle": "Happy to give you a hint. Which puzzle are you on? {where}: {names}.",
        "in_room": "In {room}",
        "all_puzzles": "The puzzles are",
    },
    "fr": {
        "fallback": (
            "Je ne suis pas sûre d'avoir une bonne réponse à cela. Je peux vous aider pour le jeu d'évasion "
            "(demandez un indice) et pour les questions de bien-être au travail — ou adressez-vous à la "
            "personne qui anime votre session."
        ),
        "small_talk": (
            "Bonjour, je suis Ariane, le guide du jeu. Appuyez sur « Indice » ou dites-moi sur quelle énigme "
            "vous bloquez, ou posez-moi une question sur le bien-être au travail."
        ),
        "retrieval_only": "Ariane fonctionne sans modèle génératif : les réponses viennent directement de la base de connaissances des médiateurs.",
        "hint": "Indice {level} sur {total} ({title}) : {hint}",
        "last_hint": " C'était le dernier indice pour cette énigme.",
        "which_puzzle": "Avec plaisir. Sur quelle énigme êtes-vous ? {where} : {names}.",
        "in_room": "Dans {room}",
        "all_puzzles": "Les énigmes sont",
    },
}


def lookup(tables: dict, key: str, lang: str, **values) -> str:
    """`tables[lang][key]` filled with `values` (English when `lang` is not spoken); the engine's,
    the page's and the console's tables all read this way."""
    table = tables.get(lang, tables[LANGUAGES[0]])
    return table[key].format(**values) if values else table[key]


def say(key: str, lang: str, **values) -> str:
    """The engine's sentence `key` in `lang` (English when `lang` is not spoken)."""
    return lookup(SENTENCES, key, lang, **values)
