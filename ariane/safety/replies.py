"""The fixed, reviewed crisis replies (English and French). Never generated text.

A reply is assembled from short sentences written here and the helpline phrases of
data/helplines.yaml, in the language of the player's message. Four situations:

- `self`: the writer may be at risk (suicide, self_harm);
- `distress`: acute distress (panic, "I can't cope anymore");
- `other`: the writer is worried about someone else;
- `harm`: the writer talks about hurting someone.

Each says: you matter / you did the right thing, call the helpline now (or the emergency number
when in danger), and the session's mediator is here and has been told. Any change to these
texts should be reviewed by the mediators before it ships.

Example:
    >>> from ariane.safety.helplines import load_helplines
    >>> text = crisis_text("suicide", "self", "en", load_helplines().for_locale("en-GB"))
    >>> "116 123" in text and "999" in text
    True
"""

from __future__ import annotations

from ariane.safety.helplines import Country

TEXTS = {
    "en": {
        "self": "I'm really glad you told me. You matter, and you don't have to go through this alone.",
        "distress": (
            "I'm sorry it feels this hard right now. You matter, and you're not alone. "
            "If you can, breathe slowly with me: in for 4, out for 6, a few times."
        ),
        "other": "Thank you for telling me: you did the right thing, and you don't have to handle this alone.",
        "harm": "It sounds like things feel overwhelming right now. Thank you for saying it instead of keeping it in.",
        "call_first": {"phone": "Please call now: {line}.", "web": "Please go now to {line}."},
        "call_more": {"phone": "You can also call {line}.", "web": "You can also go to {line}."},
        "other_call": {"phone": "For advice on how to help, call {line}, and encourage them to call too.",
                       "web": "For advice on how to help, go to {line}, and encourage them to reach out too."},
        "harm_call": {"phone": "To talk it through, call {line}.", "web": "To talk it through, go to {line}."},
        "emergency_self": "If you are in danger right now, call {emergency}.",
        "emergency_other": "If they are in danger right now, call {emergency} and stay with them if you can.",
        "emergency_harm": "If anyone could get hurt, call {emergency} now.",
        "mediator_told": "Your session's mediator is here for you and has been told: you can talk to them right now.",
        "mediator_told_other": "Your session's mediator has been told and can help you right now.",
        "mediator_find": "Please find your session's mediator now: they are here to help.",
        "careful": "If things feel hard again, call {line}. Your session's mediator is here too.",
        "careful_web": "If things feel hard again, go to {line}. Your session's mediator is here too.",
        "also": {"phone": "{country}: call {line}; emergency: {emergency}.", "web": "{country}: go to {line}."},
        "support": "If it gets too heavy, you can talk to someone now: call {line}. Your session's mediator is here too.",
        "support_web": "If it gets too heavy, you can talk to someone now: go to {line}. Your session's mediator is here too.",
    },
    "fr": {
        "self": "Merci de me l'avoir dit. Vous comptez, et vous n'avez pas à traverser ça sans aide.",
        "distress": (
            "Je suis désolée que ce soit si dur en ce moment. Vous comptez, et vous n'avez pas à affronter ça sans aide. "
            "Si vous le pouvez, respirez lentement avec moi : inspirez sur 4 temps, expirez sur 6, plusieurs fois."
        ),
        "other": "Merci de me le dire : vous avez bien fait, et vous n'avez pas à gérer ça sans aide.",
        "harm": "On dirait que tout déborde en ce moment. Merci de le dire plutôt que de le garder pour vous.",
        "call_first": {"phone": "Appelez maintenant {line}.", "web": "Allez dès maintenant sur {line}."},
        "call_more": {"phone": "Vous pouvez aussi appeler {line}.", "web": "Vous pouvez aussi aller sur {line}."},
        "other_call": {"phone": "Pour savoir comment l'aider, appelez {line}, et encouragez cette personne à appeler aussi.",
                       "web": "Pour savoir comment l'aider, allez sur {line}, et encouragez cette personne à demander de l'aide."},
        "harm_call": {"phone": "Pour en parler, appelez {line}.", "web": "Pour en parler, allez sur {line}."},
        "emergency_self": "Si vous êtes en danger immédiat, appelez {emergency}.",
        "emergency_other": "Si cette personne est en danger immédiat, appelez {emergency} et restez avec elle si vous le pouvez.",
        "emergency_harm": "Si quelqu'un risque d'être blessé, appelez {emergency} maintenant.",
        "mediator_told": "La personne qui anime votre session est là pour vous et a été prévenue : vous pouvez lui parler dès maintenant.",
        "mediator_told_other": "La personne qui anime votre session a été prévenue et peut vous aider dès maintenant.",
        "mediator_find": "Allez voir dès maintenant la personne qui anime votre session : elle est là pour vous aider.",
        "careful": "Si ça redevient difficile, appelez {line}. La personne qui anime votre session est là aussi.",
        "careful_web": "Si ça redevient difficile, allez sur {line}. La personne qui anime votre session est là aussi.",
        "also": {"phone": "{country} : appelez {line} ; urgences : {emergency}.", "web": "{country} : allez sur {line}."},
        "support": "Si c'est trop lourd, vous pouvez en parler à quelqu'un dès maintenant : appelez {line}. La personne qui anime votre session est là aussi.",
        "support_web": "Si c'est trop lourd, vous pouvez en parler à quelqu'un dès maintenant : allez sur {line}. La personne qui anime votre session est là aussi.",
    },
}


def situation(category: str, subject: str) -> str:
    """Which text fits: other (about someone else), harm, distress or self."""
    if subject == "other":
        return "other"
    if category == "harm_others":
        return "harm"
    if category == "acute_distress":
        return "distress"
    return "self"


def _kind(line) -> str:
    return "web" if line.url else "phone"


def crisis_text(category: str, subject: str, lang: str, country: Country, escalated: bool = True, also: tuple = ()) -> str:
    """The whole crisis reply, one sentence group per line.

    Args:
        category: str. The detector's category (suicide, self_harm, harm_others, acute_distress).
        subject: str. "self" or "other".
        lang: str. "en" or "fr" (anything else reads English).
        country: Country. Helplines of the locale.
        escalated: bool. True when a mediator was told (the record was written).
        also: tuple of Country. Other places the player may be (`Helplines.for_player`): one line
            each with the main helpline and the emergency number.
    """
    t = TEXTS.get(lang, TEXTS["en"])
    lang = lang if lang in TEXTS else "en"
    kind = situation(category, subject)
    first, *more = country.helplines
    emergency = country.emergency_phrase(lang)
    lines = [t[kind]]
    if kind == "other":
        lines.append(t["emergency_other"].format(emergency=emergency))
        lines.append(t["other_call"][_kind(first)].format(line=first.phrase(lang)))
    elif kind == "harm":
        lines.append(t["emergency_harm"].format(emergency=emergency))
        lines.append(t["harm_call"][_kind(first)].format(line=first.phrase(lang)))
    else:
        lines.append(t["call_first"][_kind(first)].format(line=first.phrase(lang)))
        lines.extend(t["call_more"][_kind(h)].format(line=h.phrase(lang)) for h in more)
        lines.append(t["emergency_self"].format(emergency=emergency))
    for c in also:
        line = c.helplines[0]
        lines.append(t["also"][_kind(line)].format(country=c.name_in(lang), line=line.phrase(lang), emergency=c.emergency_phrase(lang)))
    if escalated:
        lines.append(t["mediator_told_other" if kind == "other" else "mediator_told"])
    else:
        lines.append(t["mediator_find"])
    return "\n".join(lines)


def support_line(lang: str, country: Country) -> str:
    """The helpline line added to the answer of a message that shows distress but no crisis: the
    country's listening line (`support:` in data/helplines.yaml), else its first helpline."""
    t = TEXTS.get(lang, TEXTS["en"])
    lang = lang if lang in TEXTS else "en"
    first = country.support_line
    return t["support_web" if first.url else "support"].format(line=first.phrase(lang))


def careful_reminder(lang: str, country: Country) -> str:
    """One line for the later replies of a session that had a crisis."""
    t = TEXTS.get(lang, TEXTS["en"])
    lang = lang if lang in TEXTS else "en"
    first = country.helplines[0]
    return t["careful_web" if first.url else "careful"].format(line=first.phrase(lang))
