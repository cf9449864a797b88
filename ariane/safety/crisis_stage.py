"""The crisis stage and careful mode: a person in crisis never gets an answer from the model.

`CrisisStage` ("crisis") runs the detector on the player's message. On a crisis it answers at
once with the fixed reply of ariane/safety/replies.py in the message's language and the
helplines of the locale, writes an escalation record for the mediators (and posts it to
`ARIANE_ESCALATION_WEBHOOK` in the background), and puts the session in careful mode. Distress
that is not a crisis is noted (`turn.notes["safety"] = "support"`), the turn goes on to the
grounded knowledge answer, and the engine adds a helpline line to it (`turn.notes["helpline"]`);
no escalation.

Helplines follow the player (`Helplines.for_player`): the region of the page's locale
(Accept-Language) when there is one; otherwise the deployment's (ARIANE_LOCALE), plus, for a
message in another language, that language's main country and the international entry.

`CarefulStage` ("careful") keeps a session that had a crisis away from generated text for the
rest of the session and adds a reminder line with the helpline to `turn.notes["careful"]`
(copied into `Reply.details["careful"]` for the page to show).
"""

from __future__ import annotations

import logging
import threading

from ariane.engine import Reply, Turn
from ariane.safety.crisis import CrisisDetector, default_detector
from ariane.safety.helplines import Helplines, load_helplines
from ariane.safety.replies import careful_reminder, crisis_text, support_line
from ariane.settings import Settings

log = logging.getLogger(__name__)


def turn_locale(turn: Turn) -> str:
    """The page's locale for this turn, else the server's (ARIANE_LOCALE)."""
    return turn.context.locale or turn.settings.locale


def turn_language(turn: Turn) -> str:
    """'en' or 'fr': the language of the message; the locale's when the message does not say
    (the engine decides it once per turn, ariane.i18n.language_of)."""
    return turn.language


class CrisisStage:
    """Answers a crisis message with a fixed reply, records it, and turns careful mode on.

    Args:
        settings: Settings. `home` (where escalations.sqlite lives) and the default locale.
        detector: CrisisDetector | None. Defaults to ariane/safety/patterns.yaml.
        store: EscalationStore | None. Defaults to ARIANE_HOME/escalations.sqlite, opened on the
            first crisis.
        notifier: EscalationNotifier | None. Defaults to ARIANE_ESCALATION_WEBHOOK.
        helplines: Helplines | None. Defaults to data/helplines.yaml.
    """

    name = "crisis"

    def __init__(self, settings: Settings, detector: CrisisDetector | None = None, store=None, notifier=None, helplines: Helplines | None = None):
        self.settings = settings
        self.detector = detector or default_detector()
        self.helplines = helplines or load_helplines()
        self._store = store
        self._notifier = notifier
        self._lock = threading.Lock()

    @property
    def store(self):
        """The EscalationStore, opened on first use."""
        with self._lock:
            if self._store is None:
                from ariane.safety.escalations import EscalationStore

                self._store = EscalationStore.open(self.settings)
            return self._store

    @property
    def notifier(self):
        with self._lock:
            if self._notifier is None:
                from ariane.safety.notify import EscalationNotifier

                self._notifier = EscalationNotifier(self._store)
            return self._notifier

    def __call__(self, turn: Turn) -> Reply | None:
        a = self.detector.assess(turn.text)
        if a.category == "safe":
            return None
        turn.notes["safety"] = a.category
        locale, lang = turn_locale(turn), turn_language(turn)
        country, *also = self.helplines.for_player(turn.context.locale, lang, turn.settings.locale)
        if not a.crisis:  # support: the grounded knowledge answer follows, with a helpline line
            # One line has room for one country: the player's, else the one of the message's language
            # (a French message to an English deployment, from the API or the command line: France).
            turn.notes["helpline"] = support_line(lang, also[0] if also else country)
            return None
        turn.session.careful = True
        escalation = self._escalate(turn, a, locale, lang)
        text = crisis_text(a.category, a.subject, lang, country, escalated=escalation is not None, also=tuple(also))
        details = {
            "category": a.category,
            "reason": a.reason,
            "subject": a.subject,
            "language": lang,
            "helplines": ",".join(c.code for c in (country, *also)),
            "escalation_id": escalation.id if escalation else None,
        }
        return Reply(text, "crisis", escalated=escalation is not None, details=details)

    def _escalate(self, turn: Turn, a, locale: str, lang: str):
        """Write the record (and start the webhook post); None if the record could not be written."""
        try:
            escalation = self.store.record(
                turn.session.id, turn.text, a.category, a.reason, locale, language=lang, subject=a.subject,
                room=turn.context.room, puzzle=turn.context.puzzle,
            )
        except Exception:  # noqa: BLE001 - the player still gets the crisis reply, told to find the mediator
            log.exception("could not record an escalation for session %s", turn.session.id)
            return None
        try:
            self.notifier.notify(escalation)
        except Exception:  # noqa: BLE001 - the record is kept; the console shows it
            log.exception("could not start the webhook post for escalation %s", escalation.id)
        return escalation


class CarefulStage:
    """After a crisis, the session gets no generated text; replies carry a helpline reminder.

    Args:
        settings: Settings. The default locale.
        helplines: Helplines | None. Defaults to data/helplines.yaml.
    """

    name = "careful"

    def __init__(self, settings: Settings, helplines: Helplines | None = None):
        self.settings = settings
        self.helplines = helplines or load_helplines()

    def __call__(self, turn: Turn) -> Reply | None:
        if turn.session.careful:
            turn.allow_generation = False
            lang = turn_language(turn)
            country, *also = self.helplines.for_player(turn.context.locale, lang, turn.settings.locale)
            turn.notes["careful"] = careful_reminder(lang, also[0] if also else country)
        return None
