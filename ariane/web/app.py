"""`build_app()` assembles the page; `main()` serves it (what `python app.py` and a Space run).

Building has no side effects beyond opening ARIANE_HOME's SQLite files; nothing is launched.
Host and port come from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default
127.0.0.1:7860; a Space sets 0.0.0.0).
"""

from __future__ import annotations

import logging
import os

import gradio as gr

from ariane.web.api import build_api
from ariane.web.chat import ENGINE, build_chat, engine_concurrency
from ariane.web.console import build_console
from ariane.web.services import Services
from ariane.web.strings import i18n, label

QUEUE_MAX_SIZE = 48  # events waiting at most: ~20 players × 2 (a reply and a vote) + slack; more are told the queue is full
DEFAULT_CONCURRENCY = 4  # other events (votes, console) at once; each is a short SQLite read or write
TITLE = "Ariane — escape game guide"


def build_app(engine=None, settings=None, *, feedback=None, password: str | None = None) -> gr.Blocks:
    """The whole page: players' chat, mediators' console, and the /chat and /feedback API.

    Args:
        engine: ariane.engine.ChatEngine | None. None = `build_engine(settings)` (served model, or
            retrieval-only when it cannot be loaded).
        settings: ariane.settings.Settings | None. None = the engine's, else `Settings.from_env()`.
        feedback: ariane.feedback.log.FeedbackLog | None. None = `FeedbackLog.open(settings)`.
        password: str | None. Mediators' password; None = ARIANE_MEDIATOR_PASSWORD (unset = console off).

    Example:
        >>> demo = build_app(ChatEngine(model=None))
        >>> demo.queue(max_size=QUEUE_MAX_SIZE).launch(prevent_thread_lock=True)
    """
    services = Services.create(engine, settings, feedback, password)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        with gr.Tabs():
            with gr.Tab(label("tab_chat"), id="chat-tab"):
                chat = build_chat(services)
            with gr.Tab(label("tab_console"), id="console-tab"):
                build_console(services)
        build_api(services, engine_concurrency(), ENGINE)
        load_page, inputs, outputs = chat["load"]
        demo.load(load_page, inputs, outputs, api_visibility="private")
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=DEFAULT_CONCURRENCY)
    demo.ariane = services  # tests and bench read the stores through it
    return demo


def main() -> None:
    """Serve the page until interrupted."""
    logging.basicConfig(level=os.environ.get("ARIANE_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo = build_app()
    demo.ariane.warm_up()
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        show_error=True,
        i18n=i18n(),  # labels in the browser's language (English, French); Gradio's Settings switches it
    )
