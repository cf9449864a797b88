"""Every label and message of the page, in English and French.

Labels of components go through Gradio's own i18n (`I18N`, passed to `launch(i18n=...)`): the
browser picks them from its language, and Gradio's *Settings* (page footer) switches language.
Messages written by the server while the page runs (a vote's thanks, "Hints used", warnings) use
`t(key, lang)`, in the language of the request (`page_language`: the browser's Accept-Language).
The console's strings are in ariane/web/console/strings.py; both tables are merged in `I18N`.

Example:
    >>> t("hints_used", "fr", total=2)
    'Indices utilisés : 2'
"""

from __future__ import annotations

from ariane.i18n import LANGUAGES, SENTENCES, language_of_locale, lookup

PAGE = {
    "en": {
        "tab_chat": "Chat",
        "tab_console": "Mediators",
        "room": "Room",
        "puzzle": "Puzzle",
        "chat_placeholder": "Ask about a puzzle, or about wellbeing at work.",
        "message": "Your message",
        "message_placeholder": "Type a message and press Enter",
        "send": "Send",
        "hint": "Hint",
        "examples": "Try asking",
        "share": "Share the conversation text with my vote",
        "comment": "Comment on your last vote (optional)",
        "send_comment": "Send comment",
        "ai_notice": (
            "**Ariane is an AI**, not a person and not a therapist: a guide that gives hints and general "
            "information. For anything personal, talk to your session's mediator."
        ),
        "privacy": (
            "**Privacy.** Ariane never asks who you are: this page gets a random session id (not linked to "
            "you) and your messages stay in the server's memory only while the game runs. When you rate an "
            "answer with 👍 or 👎 we store the rating, your optional comment and how the answer was made (its "
            "mode, the knowledge entries it used and the model version) so the mediators can improve Ariane. "
            "The text of the conversation is stored with your rating **only if you tick \"Share the conversation "
            "text with my vote\"**; the mediators may then use it to correct answers and to retrain Ariane. If a "
            "message suggests someone may be in danger, the session's mediator is alerted so they can offer help."
        ),
        "language_hint": "Français ? Gradio's **Settings** (bottom of the page) → *Language*.",
        "retrieval_only": "⚠️ " + SENTENCES["en"]["retrieval_only"],
    },
    "fr": {
        "tab_chat": "Discussion",
        "tab_console": "Médiateurs",
        "room": "Salle",
        "puzzle": "Énigme",
        "chat_placeholder": "Posez une question sur une énigme, ou sur le bien-être au travail.",
        "message": "Votre message",
        "message_placeholder": "Écrivez un message puis appuyez sur Entrée",
        "send": "Envoyer",
        "hint": "Indice",
        "examples": "Exemples de questions",
        "share": "Partager le texte de la conversation avec mon vote",
        "comment": "Commentaire sur votre dernier vote (facultatif)",
        "send_comment": "Envoyer le commentaire",
        "ai_notice": (
            "**Ariane est une IA**, ni une personne ni une thérapeute : un guide qui donne des indices et des "
            "informations générales. Pour tout ce qui est personnel, parlez à la personne qui anime votre session."
        ),
        "privacy": (
            "**Confidentialité.** Ariane ne vous demande jamais qui vous êtes : cette page reçoit un identifiant de "
            "session aléatoire (sans lien avec vous) et vos messages ne restent dans la mémoire du serveur que le temps "
            "du jeu. Quand vous notez une réponse avec 👍 ou 👎, nous enregistrons la note, votre commentaire éventuel et "
            "la façon dont la réponse a été produite (son mode, les fiches de connaissances utilisées et la version du "
            "modèle) pour que les médiateurs puissent améliorer Ariane. Le texte de la conversation n'est enregistré avec "
            "votre note **que si vous cochez « Partager le texte de la conversation avec mon vote »** ; les médiateurs "
            "peuvent alors s'en servir pour corriger des réponses et réentraîner Ariane. Si un message laisse penser "
            "qu'une personne est en danger, la personne qui anime la session est prévenue pour pouvoir proposer de l'aide."
        ),
        "language_hint": "English? Gradio's **Paramètres** (bas de la page) → *Langue*.",
        "retrieval_only": "⚠️ " + SENTENCES["fr"]["retrieval_only"],
    },
}

EXAMPLES = {
    "en": [
        "I'm stuck on this puzzle, where should I look?",
        "How can I tell if I'm heading for burnout?",
        "A colleague seems withdrawn lately. What could I do?",
        "I can't switch off from work in the evenings.",
    ],
    "fr": [
        "Je bloque sur cette énigme, où dois-je chercher ?",
        "Comment savoir si je m'approche du burn-out ?",
        "Un collègue semble replié sur lui ces temps-ci. Que faire ?",
        "Je n'arrive pas à décrocher du travail le soir.",
    ],
}

MESSAGES = {  # written by the server while the page runs, in the request's language
    "en": {
        "hint_message": "Can I have a hint?",
        "intro_default": "Your guide in the escape game.",
        "no_room": "— no room —",
        "no_puzzle": "— no puzzle —",
        "hints_used": "Hints used: {total}",
        "hints_on_puzzle": " · {title}: {used} of {total}",
        "sources": "Sources",
        "type_first": "Type a message first.",
        "choose_puzzle": "Choose the puzzle you are stuck on first (Room, then Puzzle).",
        "engine_failed": "Ariane could not answer just now. Please try again in a moment, or ask your mediator.",
        "vote_failed": "Your vote could not be stored: reload the page and try again.",
        "vote_error": "Your vote could not be stored ({error}). Please tell your mediator.",
        "vote_withdrawn": "Vote withdrawn.",
        "thanks_up": "Thanks for the 👍!",
        "thanks_down": "Thanks — a mediator will look at this answer. What was wrong with it? (optional)",
        "comment_saved": "Comment saved. Thank you!",
        "vote_first": "Vote on an answer first, then add a comment.",
    },
    "fr": {
        "hint_message": "Je peux avoir un indice ?",
        "intro_default": "Votre guide dans le jeu d'évasion.",
        "no_room": "— aucune salle —",
        "no_puzzle": "— aucune énigme —",
        "hints_used": "Indices utilisés : {total}",
        "hints_on_puzzle": " · {title} : {used} sur {total}",
        "sources": "Sources",
        "type_first": "Écrivez d'abord un message.",
        "choose_puzzle": "Choisissez d'abord l'énigme sur laquelle vous bloquez (Salle, puis Énigme).",
        "engine_failed": "Ariane n'a pas pu répondre pour l'instant. Réessayez dans un moment, ou demandez à la personne qui anime la session.",
        "vote_failed": "Votre vote n'a pas pu être enregistré : rechargez la page et réessayez.",
        "vote_error": "Votre vote n'a pas pu être enregistré ({error}). Prévenez la personne qui anime la session.",
        "vote_withdrawn": "Vote retiré.",
        "thanks_up": "Merci pour le 👍 !",
        "thanks_down": "Merci — un médiateur va regarder cette réponse. Qu'est-ce qui n'allait pas ? (facultatif)",
        "comment_saved": "Commentaire enregistré. Merci !",
        "vote_first": "Votez d'abord sur une réponse, puis ajoutez un commentaire.",
    },
}


def t(key: str, lang: str, **values) -> str:
    """A server-written message in `lang` (English when `lang` is not spoken)."""
    return lookup(MESSAGES, key, lang, **values)


def page_language(request) -> str:
    """'fr' or 'en': the first language of the browser (Accept-Language) that Ariane speaks."""
    from ariane.safety.helplines import locale_from_accept_language

    headers = getattr(request, "headers", None) or {}
    header = headers.get("accept-language") or ""
    for part in header.split(","):
        lang = part.split(";")[0].strip().split("-")[0].lower()
        if lang in LANGUAGES:
            return lang
    return language_of_locale(locale_from_accept_language(header))


def hint_messages() -> set[str]:
    """What the page shows as the player's message when Hint is pressed, in every language."""
    return {MESSAGES[lang]["hint_message"] for lang in LANGUAGES}


def i18n():
    """Gradio's I18n with the page's and the console's labels (`launch(i18n=i18n())`)."""
    import gradio as gr

    from ariane.web.console.strings import CONSOLE

    return gr.I18n(**{lang: {**PAGE[lang], **CONSOLE[lang]} for lang in LANGUAGES})


def label(key: str):
    """A component label translated by the browser (Gradio's i18n)."""
    from gradio.i18n import I18nData

    return I18nData(key)
