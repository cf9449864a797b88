"""The mediators' console in French: every label has both languages, the page's config carries
Gradio i18n keys instead of English literals, and a French browser gets French messages from the
real console on loopback (gradio_client with Accept-Language: fr-FR)."""

import json
import re
import string
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")

from ariane.web.console.strings import CONSOLE, HEADERS, MESSAGES, t  # noqa: E402

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "ariane" / "web" / "console"
PASSWORD = "mot de passe"
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
SAME_IN_BOTH = {"console_conversation", "console_question"}  # French words that are also English


def source_keys(pattern: str) -> set[str]:
    return {key for path in CONSOLE_DIR.glob("*.py") for key in re.findall(pattern, path.read_text(encoding="utf-8"))}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_label_of_the_console_is_in_english_and_french():
    used = source_keys(r'label\("(console_\w+)"\)')
    assert len(used) > 40  # the grep found the console's labels
    assert used <= set(CONSOLE["en"]) and used <= set(CONSOLE["fr"]), used - set(CONSOLE["en"]) - set(CONSOLE["fr"])
    assert set(CONSOLE["en"]) == set(CONSOLE["fr"]) and all(k.startswith("console_") for k in CONSOLE["en"])
    assert set(CONSOLE["en"]) - used <= {"console_disabled"} | {k for k in CONSOLE["en"] if k.endswith("_help")}  # no dead keys
    untranslated = {k for k in CONSOLE["en"] if CONSOLE["fr"][k] == CONSOLE["en"][k]}
    assert untranslated <= SAME_IN_BOTH, untranslated


def test_every_message_has_both_languages_with_the_same_placeholders():
    assert set(MESSAGES["en"]) == set(MESSAGES["fr"])
    for key, english in MESSAGES["en"].items():
        assert placeholders(MESSAGES["fr"][key]) == placeholders(english), key
    used = source_keys(r'\bt\("(\w+)"') | {f"status_{s}" for s in ("draft", "approved")}  # t(f"status_{e.status}")
    assert used <= set(MESSAGES["en"]), used - set(MESSAGES["en"])
    assert {k for k in MESSAGES["en"] if MESSAGES["fr"][k] == MESSAGES["en"][k]} == set()
    assert all(len(HEADERS["fr"][table]) == len(columns) for table, columns in HEADERS["en"].items())
    assert t("deleted", "de", id="x") == "Deleted **x**."  # a language the console does not speak: English


def test_the_page_merges_the_console_labels_into_gradios_i18n():
    from ariane.web.strings import i18n

    translations = i18n().translations_dict
    assert translations["fr"]["console_unlock"] == "Déverrouiller" and translations["en"]["console_unlock"] == "Unlock"
    assert translations["fr"]["console_tab_escalations"] == "Alertes"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Retrieval-only Ariane with the console on, on a free loopback port, with the page's i18n."""
    from ariane.pipeline import build_engine
    from ariane.settings import Settings
    from ariane.web.app import build_app
    from ariane.web.strings import i18n
    from ariane.web.testing import free_port

    settings = Settings(home=tmp_path_factory.mktemp("home"))
    demo = build_app(build_engine(settings, model=None), settings, password=PASSWORD)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=True, i18n=i18n())
    yield demo, f"http://127.0.0.1:{port}/"
    demo.close()


def props_by_elem_id(demo) -> dict:
    return {c["props"]["elem_id"]: c["props"] for c in demo.get_config_file()["components"] if c["props"].get("elem_id")}


def i18n_key(value) -> str | None:
    """The key of a Gradio i18n marker (I18nData, or its `__i18n__{...}` string form), else None."""
    text = str(value)
    return json.loads(text[len("__i18n__") :])["key"] if text.startswith("__i18n__") and "translation_metadata" in text else None


def test_the_console_config_carries_i18n_keys_not_english(app):
    demo, _ = app
    props = props_by_elem_id(demo)
    assert i18n_key(props["console-unlock"]["value"]) == "console_unlock"  # a Button's text
    assert i18n_key(props["console-password"]["label"]) == "console_password"
    assert i18n_key(props["kb-search"]["placeholder"]) == "console_search_placeholder"
    assert i18n_key(props["kb-help"]["value"]) == "console_knowledge_help"  # a help text (Markdown)
    assert i18n_key(props["escalation-ack"]["value"]) == "console_acknowledge"
    # choices: translated display, machine values kept for the handlers (and the API)
    assert [(i18n_key(shown), value) for shown, value in props["kb-status-filter"]["choices"]] == [
        ("console_all", "all"), ("console_draft", "draft"), ("console_approved", "approved")]  # fmt: skip
    assert [value for _, value in props["console-period"]["choices"]] == ["per day", "per hour"]
    assert [value for _, value in props["kb-language"]["choices"]] == ["en", "fr"]
    tabs = {i18n_key(c["props"].get("label")) for c in demo.get_config_file()["components"] if c["type"] == "tabitem"}
    assert {"console_tab_dashboard", "console_tab_dislikes", "console_tab_knowledge", "console_tab_escalations"} <= tabs
    served = json.dumps([props[e] for e in ("console-unlock", "console-password", "kb-delete")], default=str)
    assert "Unlock" not in served and "Mediator password" not in served and '"Delete"' not in served


@pytest.fixture(scope="module")
def french(app):
    """A French browser (Accept-Language fr-FR) that unlocked the console; the unlock's outputs."""
    client = gradio_client.Client(app[1], verbose=False, headers=FRENCH)
    return client, client.predict(PASSWORD, api_name="/console_unlock")


def test_a_french_browser_is_refused_and_unlocked_in_french(app):
    client = gradio_client.Client(app[1], verbose=False, headers=FRENCH)
    with pytest.raises(Exception, match="La console est verrouillée"):
        client.predict("per day", api_name="/console_dashboard")
    assert "Mot de passe incorrect" in json.dumps(client.predict("devinette", api_name="/console_unlock"), ensure_ascii=False)


def test_unlocking_in_french_fills_the_console_in_french(french):
    _, outputs = french
    _, status, counts, _plot, alerts, dislikes, entries, new_entry_language, *_ = outputs
    assert status == "Console déverrouillée." and counts.startswith("**Votes :**") and alerts == "Aucune notification de votes négatifs."
    assert dislikes["headers"][1] == "quand (UTC)" and entries["headers"][1:5] == ["statut", "catégorie", "question", "langue"]
    rows = {r[0]: r for r in entries["data"]}
    assert rows["stress-001-fr"][1] == "approuvée" and rows["stress-001-fr"][4] == "fr" and rows["stress-001"][4] == "en"
    assert new_entry_language == "fr"  # a new entry is in the console's language


def test_csv_check_and_import_speak_french(french, tmp_path):
    client, _ = french
    bad = tmp_path / "mauvais.csv"
    bad.write_text("question,answer\nComment demander des horaires aménagés ?,\n", encoding="utf-8")
    status, _ = client.predict(gradio_client.handle_file(str(bad)), "work-life-balance", "", "all", api_name="/console_import")
    assert status.startswith("❌ **Rien n'a été importé.**") and "mauvais.csv:2" in status  # the knowledge base's own words after the lead-in

    good = tmp_path / "bon.csv"
    good.write_text("question;answer\nComment demander des horaires aménagés ?;Demandez un court rendez-vous à votre responsable.\n", encoding="utf-8")
    status, table = client.predict(gradio_client.handle_file(str(good)), "work-life-balance", "", "all", api_name="/console_import")
    assert status.startswith("✅ Import terminé : 1 ajoutée(s), 0 mise(s) à jour") and "brouillons" in status
    row = next(r for r in table["data"] if r[3] == "Comment demander des horaires aménagés ?")
    assert row[1] == "brouillon" and row[4] == "fr" and table["headers"][1] == "statut"


def test_a_correction_is_saved_in_french_and_filed_as_french(app, french):
    demo, url = app
    client, _ = french
    question = "Puis-je venir avec mon chien Zébulon ?"
    draft, status, _ = client.predict(None, "game-help", question, "Les animaux restent à la maison.", api_name="/console_save_draft")
    assert status == f"Brouillon **{draft}** enregistré. Approuvez-le pour qu'Ariane puisse s'en servir."
    assert demo.ariane.knowledge.get(draft).language == "fr"  # the text is French: so is the entry
    assert client.predict(draft, api_name="/console_approve").startswith(f"**{draft}** est approuvée")

    english = gradio_client.Client(url, verbose=False)
    english.predict(PASSWORD, api_name="/console_unlock")
    _, status, _ = english.predict(None, "game-help", "Can I bring my cat Tibbles?", "Pets stay at home.", api_name="/console_save_draft")
    assert status.startswith("Saved draft **game-help-")  # the same handler, an English browser


def test_an_entry_keeps_its_language_and_its_id_suffix_agreeing(french):
    client, _ = french
    form = ("stress-001-fr", "stress", "approved", "Qu'est-ce que le stress ?", "", "Une réponse.", "", "en")
    with pytest.raises(Exception, match="La fiche n'a pas été enregistrée : .*ends in '-fr' but its language is 'en'"):
        client.predict(*form, "", "all", api_name="/console_save_entry")


def test_the_knowledge_list_filters_by_language(app):
    from ariane.web.console.knowledge import entry_rows

    kb = app[0].ariane.knowledge
    french = entry_rows(kb, "stress", "approved", "fr", "fr")
    assert french and {r[4] for r in french} == {"fr"} and "stress-001-fr" in {r[0] for r in french}
    assert {r[4] for r in entry_rows(kb, "stress", "all", "en")} == {"en"}
    assert {r[4] for r in entry_rows(kb, "stress")} == {"en", "fr"}


@pytest.mark.browser
def test_a_french_browser_shows_the_console_in_french(app):
    """Gradio translates the labels in the browser (navigator language fr-FR)."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed: run `make browser`")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR", extra_http_headers=FRENCH)
            page.goto(app[1])
            page.get_by_role("tab").nth(1).click()  # the page's second tab: the mediators'
            page.locator("#console-password input").fill(PASSWORD)
            page.locator("#console-unlock").click()
            page.locator("#console-status").get_by_text("Console déverrouillée.").wait_for(state="attached", timeout=20_000)
            assert page.locator("#console-unlock").inner_text().strip() == "Déverrouiller"
            tabs = page.get_by_role("tab").all_inner_texts()
            assert {"Tableau de bord", "Votes négatifs", "Fiches", "Alertes"} <= {t.strip() for t in tabs}, tabs
            assert "par heure" in page.locator("#console-period").inner_text()
        finally:
            browser.close()
