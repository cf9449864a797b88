"""The real app on loopback, driven through its API with gradio_client (as another front end would)."""

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

gradio_client = pytest.importorskip("gradio_client")

PASSWORD = "correct horse"


class Webhook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture(scope="module")
def bm25_only():
    """The real retriever (MiniLM + BM25): the shipped vectors make its index quick to build.
    (Kept as a fixture name so the tests read the same; it no longer turns MiniLM off.)"""
    yield


@pytest.fixture(scope="module")
def app(tiny_model, tmp_path_factory, webhook, bm25_only):
    from ariane.feedback.alerts import DislikeAlert
    from ariane.feedback.log import FeedbackLog
    from ariane.feedback.store import FeedbackStore
    from ariane.pipeline import build_engine
    from ariane.settings import GenerationConfig, Settings
    from ariane.web.app import build_app
    from ariane.web.testing import launch_local

    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, generation=GenerationConfig(temperature=0, max_new_tokens=24, max_seconds=120))
    store = FeedbackStore.open(settings)
    feedback = FeedbackLog(store, alert=DislikeAlert(store, webhook=webhook))
    demo = build_app(build_engine(settings, model=tiny_model), settings, feedback=feedback, password=PASSWORD)
    url = launch_local(demo)
    yield demo, url
    demo.close()


@pytest.fixture
def client(app):
    return gradio_client.Client(app[1], verbose=False)


def test_importing_app_py_has_no_side_effects(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setenv("ARIANE_HOME", str(tmp_path / "home"))
    app_module = importlib.reload(importlib.import_module("app"))
    assert callable(app_module.build_app) and callable(app_module.main)
    assert not (tmp_path / "home").exists()  # nothing opened, built or launched


def test_chat_streams_in_several_parts(client):
    job = client.submit("hello there", [], "", "", "", api_name="/chat")  # small talk: the model answers
    parts = [tuple(p) for p in job]
    texts = [t for t, _ in parts]
    text, info = job.result()
    assert len(set(texts)) >= 3, parts  # the reply arrived growing, not in one piece
    assert all(b.strip().startswith(a.strip()) for a, b in zip(texts, texts[1:])), texts  # each part extends the last
    assert info["mode"] == "generated" and info["message_index"] == 1 and info["session"]
    assert text == texts[-1]


def test_vote_lands_in_sqlite_and_a_changed_vote_updates_it(app, client):
    demo, _ = app
    store = demo.ariane.feedback.store
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    job = client.submit("who are you?", history, "", "", "", api_name="/chat")
    text, info = job.result()
    sid, index = info["session"], info["message_index"]
    assert index == 3

    ack = client.predict(sid, index, "up", "", False, api_name="/feedback")
    assert ack["stored"] and ack["known_reply"]
    row = store.get(sid, index)
    assert row["vote"] == "up" and row["mode"] == info["mode"] and row["model"] == info["model"]
    assert row["conversation"] is None and row["reply"] is None  # not shared: no text stored

    client.predict(sid, index, "down", "not helpful", True, api_name="/feedback")
    rows = [r for r in store.rows() if r["session_id"] == sid]
    assert len(rows) == 1 and rows[0]["id"] == row["id"]  # updated, not duplicated
    assert rows[0]["vote"] == "down" and rows[0]["comment"] == "not helpful"
    assert rows[0]["conversation"] == [*history, {"role": "user", "content": "who are you?"}, {"role": "assistant", "content": text}]

    with pytest.raises(Exception, match="vote must be"):
        client.predict(sid, index, "maybe", api_name="/feedback")


def test_hint_button_api_gives_the_next_level(client):
    args = ("", [], "open-space", "wilting-plant")
    first, info = client.predict(*args, "", True, api_name="/chat")
    second, _ = client.predict(*args, info["session"], True, api_name="/chat")
    assert info["mode"] == "hint" and first.startswith("Hint 1 of 4") and second.startswith("Hint 2 of 4")


def test_console_refuses_without_the_password(client):
    with pytest.raises(Exception, match="locked"):
        client.predict("per day", api_name="/console_dashboard")
    with pytest.raises(Exception, match="locked"):
        client.predict("", "all", api_name="/console_entries")
    result = client.predict("guess", api_name="/console_unlock")
    assert "Wrong password" in json.dumps(result)
    with pytest.raises(Exception, match="locked"):
        client.predict("per day", api_name="/console_dashboard")  # a wrong password unlocks nothing

    client.predict(PASSWORD, api_name="/console_unlock")
    counts, _plot, _alerts = client.predict("per day", api_name="/console_dashboard")
    assert "Votes:" in counts


def test_dislikes_past_the_threshold_post_an_alert(app, client):
    from ariane.feedback.alerts import THRESHOLD

    demo, _ = app
    Webhook.received.clear()
    for i in range(THRESHOLD):
        client.predict(f"alert-session-{i}", 1, "down", api_name="/feedback")
    demo.ariane.feedback.alert.wait()
    deadline = time.monotonic() + 10
    while not Webhook.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(Webhook.received) == 1 and "disliked" in Webhook.received[0]["text"]
    alert = demo.ariane.feedback.store.alerts()[0]
    assert alert["delivered"] == 1 and alert["dislikes"] >= THRESHOLD
    client.predict("alert-session-extra", 1, "down", api_name="/feedback")
    demo.ariane.feedback.alert.wait()
    assert len(Webhook.received) == 1  # one alert per window, not one per further dislike


def test_console_is_off_without_a_configured_password(tmp_path, bm25_only):
    from ariane.pipeline import build_engine
    from ariane.settings import Settings
    from ariane.web.app import build_app
    from ariane.web.testing import launch_local

    settings = Settings(home=tmp_path)
    demo = build_app(build_engine(settings, model=None), settings, password="")
    try:
        client = gradio_client.Client(launch_local(demo), verbose=False)
        with pytest.raises(Exception, match="ARIANE_MEDIATOR_PASSWORD"):
            client.predict("", api_name="/console_unlock")
        assert "/console_dashboard" not in json.dumps(client.view_api(print_info=False, return_format="dict"))
    finally:
        demo.close()


@pytest.fixture
def mediator(app):
    """A client that unlocked the console."""
    client = gradio_client.Client(app[1], verbose=False)
    client.predict(PASSWORD, api_name="/console_unlock")
    return client


def test_a_corrected_answer_is_served_once_approved(client, mediator):
    question = "Can I bring my dog Zebedee to the escape room?"
    draft, status, _ = mediator.predict(None, "game-help", question, "Pets stay at home, but Zebedee can wait in the lobby.", api_name="/console_save_draft")
    assert draft.startswith("game-help-") and "draft" in status
    _, info = client.predict(question, [], "", "", "", api_name="/chat")
    assert draft not in info["sources"]  # a draft is never served

    assert "approved" in mediator.predict(draft, api_name="/console_approve")
    _, info = client.predict(question, [], "", "", "", api_name="/chat")
    assert info["sources"][:1] == [draft]  # retrieval serves it at once

    rows = mediator.predict("Zebedee", "approved", api_name="/console_entries")  # a name no shipped entry uses
    assert [r[0] for r in rows["data"]] == [draft]


def test_csv_upload_reports_errors_and_imports_all_or_nothing(mediator, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nHow do I ask for flexible hours?,\n", encoding="utf-8")
    status, _ = mediator.predict(gradio_client.handle_file(str(bad)), "work-life-balance", "", "all", api_name="/console_import")
    assert "Nothing was imported" in status and "bad.csv:2" in status and "answer is empty" in status

    good = tmp_path / "good.csv"
    good.write_text("question;answer;paraphrases\nHow do I ask for flexible hours?;Book a short meeting with your manager.;flexible hours?|can I work flexibly\n", encoding="utf-8")
    status, table = mediator.predict(gradio_client.handle_file(str(good)), "work-life-balance", "", "all", api_name="/console_import")
    assert "Imported: added 1" in status
    assert any(r[3] == "How do I ask for flexible hours?" and r[1] == "draft" for r in table["data"])


def test_the_api_takes_the_players_locale(client):
    text, info = client.predict("je n'en peux plus, je veux en finir", [], "", "", "", False, "fr-FR", api_name="/chat")
    assert info["mode"] == "crisis" and "3114" in text and "116 123" not in text
    text, _ = client.predict("je n'en peux plus, je veux en finir", [], "", "", "", api_name="/chat")  # no locale: the server's, then France's
    assert "116 123" in text and "3114" in text


def test_escalations_are_listed_and_acknowledged(client, mediator):
    _, info = client.predict("I want to end my life", [], "", "", "", api_name="/chat")
    assert info["mode"] == "crisis" and info["escalated"]
    note, table = mediator.predict(True, api_name="/console_escalations")
    row = next(r for r in table["data"] if r[4] == info["session"])
    assert row[5] == "open" and "want to end my life" in row[3]
    table, details = mediator.predict(row[0], "M.D.", True, api_name="/console_acknowledge")
    assert "acknowledged by M.D." in details and all(r[0] != row[0] for r in table["data"])  # no longer open
    with pytest.raises(Exception, match="locked"):
        client.predict(row[0], "intruder", True, api_name="/console_acknowledge")
