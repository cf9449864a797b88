"""The players' page in a real browser (Debian's headless chromium, driven by Playwright)."""

import shutil
import time

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Retrieval-only Ariane (no model: the page must say so) on a free loopback port, with the
    real retriever (MiniLM + BM25; the shipped vectors make its index quick to build)."""
    mp = pytest.MonkeyPatch()
    from ariane.pipeline import build_engine
    from ariane.settings import Settings
    from ariane.web.app import build_app
    from ariane.web.testing import launch_local

    settings = Settings(home=tmp_path_factory.mktemp("home"))
    demo = build_app(build_engine(settings, model=None), settings, password="pw")
    url = launch_local(demo)
    yield demo, url
    demo.close()
    mp.undo()


@pytest.fixture(scope="module")
def page():
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed: run `make browser`")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def send(page, text):
    """Type a message, press Enter, wait for Ariane's reply."""
    replies = page.locator("#chat [data-testid='bot']")
    before = replies.count()
    box = page.locator("#message textarea")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function("n => document.querySelectorAll(\"#chat [data-testid='bot']\").length > n", arg=before, timeout=20_000)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_chat_reply_and_dislike_lands_in_the_database(app, page):
    demo, url = app
    page.goto(url + "?room=open-space&puzzle=wilting-plant")
    sync_api.expect(page.locator("#notice-banner")).to_contain_text("without a generative model")
    sync_api.expect(page.locator("#puzzle input")).to_have_value("The wilting plant", timeout=10_000)  # from the URL
    sync_api.expect(page.locator("#hints-used")).to_contain_text("The wilting plant: 0 of 4")
    page.locator("#hint").click()
    sync_api.expect(page.locator("#chat [data-testid='bot']").last).to_contain_text("Hint 1 of 4")
    sync_api.expect(page.locator("#hints-used")).to_contain_text("Hints used: 1 · The wilting plant: 1 of 4")

    send(page, "I can't sleep because of work worries.")  # a knowledge entry answers it
    sync_api.expect(page.locator("#chat")).to_contain_text("Sources (1)")  # collapsible, under the answer
    page.locator("#chat button[aria-label='Dislike']").last.click()
    store = demo.ariane.feedback.store
    rows = wait_for(lambda: [r for r in store.rows() if r["vote"] == "down"])
    assert len(rows) == 1 and rows[0]["message_index"] == 3  # the answer, not its sources box
    assert rows[0]["mode"] == "retrieved" and len(rows[0]["sources"]) == 1  # the reply's metadata came along
    assert rows[0]["conversation"] is None  # "share the conversation text" is off by default
    sync_api.expect(page.locator("#vote-status")).to_contain_text("mediator will look")

    page.get_by_label("Comment on your last vote (optional)").fill("not about my question")
    page.locator("#send-comment").click()
    assert wait_for(lambda: store.get(rows[0]["session_id"], 3)["comment"] == "not about my question")

    page.locator("#chat button[aria-label='Like']").last.click()  # a change of mind updates the row
    assert wait_for(lambda: store.get(rows[0]["session_id"], 3)["vote"] == "up")
    assert len([r for r in store.rows() if r["session_id"] == rows[0]["session_id"]]) == 1


def test_html_in_a_message_shows_as_text_and_never_runs(app, page):
    _, url = app
    page.goto(url)
    send(page, XSS)
    user = page.locator("#chat [data-testid='user']").last
    sync_api.expect(user).to_contain_text(XSS)  # the markup is shown, character for character
    assert page.locator("#chat img[src='x']").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"

    page.locator("#chat button[aria-label='Undo']").last.click()  # the message comes back exactly as typed
    sync_api.expect(page.get_by_label("Your message")).to_have_value(XSS)
    sync_api.expect(page.locator("#chat [data-testid='user']")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_a_french_browser_sees_the_french_page_and_gets_french_answers_and_hints(app, page):
    """Gradio's i18n follows the browser's language; the game, the replies and the server's
    messages follow it too (Accept-Language)."""
    _, url = app
    context = page.context.browser.new_context(locale="fr-FR")
    try:
        fr = context.new_page()
        fr.goto(url + "?room=open-space&puzzle=wilting-plant")
        sync_api.expect(fr.get_by_label("Votre message")).to_be_visible(timeout=10_000)
        sync_api.expect(fr.locator("#hint")).to_have_text("Indice")
        sync_api.expect(fr.locator("#ai-notice")).to_contain_text("Ariane est une IA")
        sync_api.expect(fr.locator("#puzzle input")).to_have_value("La plante qui dépérit", timeout=10_000)
        sync_api.expect(fr.locator("#notice-banner")).to_contain_text("sans modèle génératif")
        fr.locator("#hint").click()
        sync_api.expect(fr.locator("#chat [data-testid='user']").last).to_contain_text("Je peux avoir un indice ?")
        sync_api.expect(fr.locator("#chat [data-testid='bot']").last).to_contain_text("Indice 1 sur 4 (La plante qui dépérit)")
        sync_api.expect(fr.locator("#hints-used")).to_contain_text("Indices utilisés : 1 · La plante qui dépérit : 1 sur 4")
        send(fr, "Comment gérer le stress au travail ?")
        answer = fr.locator("#chat [data-testid='bot']").nth(1)
        sync_api.expect(answer).to_contain_text("stress")
        assert "I'm not sure" not in answer.inner_text() and " vous " in answer.inner_text()
        sync_api.expect(fr.locator("#chat")).to_contain_text("Sources (1)")
        assert "Try asking" not in fr.locator("body").inner_text()  # the French examples only
        sync_api.expect(fr.get_by_text("Comment savoir si je m'approche du burn-out ?")).to_be_visible()
    finally:
        context.close()


def test_a_french_browser_gets_the_french_helplines_in_a_crisis(app, page):
    """The browser's language and region (Accept-Language: fr-FR) are the turn's locale."""
    _, url = app
    context = page.context.browser.new_context(locale="fr-FR")
    try:
        fr = context.new_page()
        fr.goto(url)
        send(fr, "je n'en peux plus, je veux en finir")
        reply = fr.locator("#chat [data-testid='bot']").last
        sync_api.expect(reply).to_contain_text("3114")
        sync_api.expect(reply).to_contain_text("15 (SAMU)")
        assert "116 123" not in reply.inner_text()  # not the deployment's (en-GB) numbers
    finally:
        context.close()
