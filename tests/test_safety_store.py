"""Escalation records (real SQLite), the webhook post, and the helplines file."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ariane.safety.escalations import EscalationStore
from ariane.safety.helplines import locale_from_accept_language, load_helplines, parse_helplines, region_of
from ariane.safety.notify import EscalationNotifier


@pytest.fixture
def store(tmp_path):
    return EscalationStore(tmp_path / "escalations.sqlite")


def test_record_list_get_acknowledge(store):
    a = store.record("s1", "I want to die", "suicide", "en.suicide.want-to-die: 'i want to die'", "en-GB", room="open-space")
    b = store.record("s2", "je veux mourir", "suicide", "fr.suicide.vouloir-mourir", "fr-FR", language="fr")
    assert [e.id for e in store.list()] == [b.id, a.id] and store.count_open() == 2
    assert store.get(a.id).message == "I want to die" and store.get(a.id).room == "open-space"
    assert store.get(999) is None
    done = store.acknowledge(a.id, "Ana")
    assert done.acknowledged_by == "Ana" and done.acknowledged_at and not done.open
    assert store.acknowledge(a.id, "Ben").acknowledged_by == "Ana"  # the first acknowledgement is kept
    assert [e.id for e in store.list(open_only=True)] == [b.id] and store.count_open() == 1
    assert [e.id for e in store.list(session_id="s1")] == [a.id]
    with pytest.raises(ValueError, match="no escalation 999"):
        store.acknowledge(999, "Ana")
    with pytest.raises(ValueError, match="who acknowledges"):
        store.acknowledge(b.id, " ")


def test_records_survive_a_new_connection(store):
    e = store.record("s1", "kms", "suicide", "en.suicide.kms", "en-GB")
    again = EscalationStore(store.path)
    assert again.get(e.id).to_dict() == e.to_dict()


class Hook(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):
        Hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_gets_a_slack_style_message_without_the_players_words(store):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        notifier = EscalationNotifier(store, webhook=f"http://127.0.0.1:{server.server_port}/hook")
        e = store.record("s9", "I want to end my life", "suicide", "r", "en-GB", room="break-room")
        notifier.notify(e)
        notifier.wait()
    finally:
        server.shutdown()
    (body,) = Hook.bodies
    assert set(body) == {"text"} and "s9" in body["text"] and "break-room" in body["text"]
    assert "end my life" not in body["text"]
    assert store.get(e.id).notified == 1


def test_a_failed_post_is_logged_and_the_record_kept(store, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    notifier = EscalationNotifier(store, webhook=f"http://127.0.0.1:{port}/hook", timeout_s=2)
    e = store.record("s1", "I want to die", "suicide", "r", "en-GB")
    notifier.notify(e)
    notifier.wait()
    kept = store.get(e.id)
    assert kept.notified == 0 and kept.notify_error and kept.open
    assert "could not post escalation" in caplog.text and "/hook" not in caplog.text  # the secret path is not logged


def test_no_webhook_no_thread(store, monkeypatch):
    monkeypatch.delenv("ARIANE_ESCALATION_WEBHOOK", raising=False)
    assert EscalationNotifier(store).notify(store.record("s", "m", "suicide", "r", "en-GB")) is None


def test_helplines_cover_the_required_countries():
    h = load_helplines()
    expect = {"FR": "3114", "GB": "116 123", "US": "988", "IE": "116 123", "BE": "0800 32 123", "CA": "988", "CH": "143"}
    for region, number in expect.items():
        assert h.for_locale(f"fr-{region}").helplines[0].number == number
    assert "111" in [line.number for line in h.for_locale("en-GB").helplines]
    assert h.for_locale("en-GB").emergency_number == "999"
    assert h.for_locale("xx").code == "international" and "112" in h.international.emergency_phrase("en")
    assert h.international.helplines[0].url == "https://findahelpline.com"
    assert (region_of("fr_ca.UTF-8"), region_of("fr"), region_of(None)) == ("CA", None, None)


def _one(**line):
    base = {"name": "Line", "number": "116 123", "en": "Line on 116 123", "fr": "Line au 116 123"}
    emergency = {"number": "112", "en": "112", "fr": "le 112"}
    return {"countries": {"GB": {"emergency": emergency, "helplines": [{**base, **line}]}},
            "international": {"emergency": emergency, "helplines": [base]}}


@pytest.mark.parametrize(
    "data,message",
    [
        (_one(number="call me"), "is not a phone number"),
        (_one(fr="Line au 999"), "'fr' phrase does not contain the number 116 123"),
        (_one(en=None), "missing the 'en' phrase"),
        (_one(url="https://x.org"), "exactly one of 'number' and 'url'"),
        ({"countries": {"gb": {}}, "international": {}}, "not a two-letter region code"),
        ({"countries": {}}, "missing 'international'"),
        ({**_one(), "languages": {"fr": "FR"}}, "languages: fr: 'FR' is not one of the countries"),
    ],
)
def test_helplines_file_is_validated(data, message):
    with pytest.raises(ValueError, match=message):
        parse_helplines(data, "helplines.yaml")


def test_helplines_follow_the_player():
    h = load_helplines()
    assert [c.code for c in h.for_player("fr-FR", "fr", "en-GB")] == ["FR"]  # the page's region wins
    assert [c.code for c in h.for_player("en-US", "fr", "fr-FR")] == ["US"]
    assert [c.code for c in h.for_player(None, "fr", "en-GB")] == ["GB", "FR", "international"]
    assert [c.code for c in h.for_player("fr", "fr", "en-GB")] == ["GB", "FR", "international"]  # a bare language
    assert [c.code for c in h.for_player(None, "en", "en-GB")] == ["GB"]
    assert [c.code for c in h.for_player(None, "en", "fr-FR")] == ["FR", "GB", "international"]
    assert h.for_locale("fr-FR").name_in("fr") == "France" and h.for_locale("en-GB").name_in("fr") == "Royaume-Uni"


@pytest.mark.parametrize(
    "header,locale",
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr-FR"),
        ("fr,en;q=0.5", "fr"),
        ("fr,fr-BE;q=0.9,en;q=0.5", "fr-BE"),
        ("en;q=0.4,fr-CH;q=0.8", "fr-CH"),
        ("*", None),
        ("", None),
        (None, None),
        ("fr-FR;q=0,en-GB", "en-GB"),
    ],
)
def test_locale_from_accept_language(header, locale):
    assert locale_from_accept_language(header) == locale
