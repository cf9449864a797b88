"""The mediators' console: a password, then Dashboard, Dislikes (review → knowledge entry),
Knowledge (Q&A list, CSV) and Escalations. See `auth` for how the data is kept server-side.

Labels are Gradio i18n keys (`label("console_...")`, English and French in `strings.CONSOLE`);
what the handlers write is in the language of the request (`t(key, page_language(request))`).
"""

from __future__ import annotations

import gradio as gr

from ariane.web.console.auth import check_password
from ariane.web.console.dashboard import build_dashboard
from ariane.web.console.dislikes import build_dislikes
from ariane.web.console.escalations import build_escalations
from ariane.web.console.knowledge import build_knowledge
from ariane.web.console.strings import t
from ariane.web.strings import label, page_language


def build_console(services) -> None:
    """Lay out the console inside the current Blocks (a tab) and wire its events."""
    unlocked = gr.State(False)  # server-side: True once this browser session gave the password
    if not services.password:
        gr.Markdown(label("console_disabled"), elem_id="console-disabled")

        def unlock_console(password: str, request: gr.Request) -> str:
            raise gr.Error(t("console_off", page_language(request)))

        gr.api(unlock_console, api_name="console_unlock", api_visibility="undocumented")
        return
    with gr.Row(equal_height=True):
        password = gr.Textbox(label=label("console_password"), type="password", elem_id="console-password", scale=4)
        unlock = gr.Button(label("console_unlock"), variant="primary", elem_id="console-unlock", scale=1)
        lock = gr.Button(label("console_lock"), elem_id="console-lock", scale=1, visible=False)
    status = gr.Markdown("", elem_id="console-status")
    with gr.Column(visible=False) as content:
        with gr.Tabs():
            with gr.Tab(label("console_tab_dashboard"), id="dashboard"):
                panels = [build_dashboard(services, unlocked)]
            with gr.Tab(label("console_tab_dislikes"), id="dislikes"):
                panels.append(build_dislikes(services, unlocked))
            with gr.Tab(label("console_tab_knowledge"), id="knowledge"):
                panels.append(build_knowledge(services, unlocked))
            with gr.Tab(label("console_tab_escalations"), id="escalations"):
                panels.append(build_escalations(services, unlocked))
    panel_outputs = [o for _, _, outputs in panels for o in outputs]

    def unlock_console(password_, request: gr.Request):
        """Check the password on the server; fill the console only when it matches."""
        lang = page_language(request)
        if not check_password(password_, services.password):
            return (False, "", t("wrong_password", lang), gr.Column(visible=False), gr.Button(visible=False), *([gr.skip()] * len(panel_outputs)))
        values = []
        for show, inputs, _ in panels:
            args = [True] + [c.value for c in inputs[1:]]  # the filters' defaults
            out = show(*args, request)
            values.extend(out if isinstance(out, tuple) else (out,))
        return (True, "", t("unlocked", lang), gr.Column(visible=True), gr.Button(visible=True), *values)

    def lock_console(request: gr.Request):
        """Forget the password for this page and clear what the console showed."""
        return (False, t("now_locked", page_language(request)), gr.Column(visible=False), gr.Button(visible=False), *([None] * len(panel_outputs)))

    gr.on([unlock.click, password.submit], unlock_console, [password], [unlocked, password, status, content, lock, *panel_outputs], api_name="console_unlock", api_visibility="undocumented")
    lock.click(lock_console, None, [unlocked, status, content, lock, *panel_outputs], api_visibility="private")
