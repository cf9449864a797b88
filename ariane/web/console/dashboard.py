"""Console tab "Dashboard": vote counts, like rate over time, alerts."""

from __future__ import annotations

import gradio as gr

from ariane.web.console.auth import require
from ariane.web.console.strings import t
from ariane.web.strings import label, page_language

PERIODS = {"per day": "day", "per hour": "hour"}  # the Radio's values (machine values; shown translated)


def counts_text(store, lang: str = "en") -> str:
    c = store.counts()
    rate = f"{c['like_rate']:.0%}" if c["like_rate"] is not None else "—"
    return t("counts", lang, votes=c["votes"], up=c["up"], down=c["down"], rate=rate, sessions=c["sessions"], shared=c["shared"])


def like_rate_frame(store, period: str = "day"):
    import pandas as pd

    rows = store.like_rate_by(period)
    df = pd.DataFrame(rows, columns=["period", "votes", "like_rate"])
    df["period"] = pd.to_datetime(df["period"], format="ISO8601")
    return df


def alerts_text(store, lang: str = "en") -> str:
    alerts = store.alerts(limit=5)
    if not alerts:
        return t("no_alerts", lang)
    status = {1: t("alert_sent", lang), 0: t("alert_failed", lang), None: t("alert_shown_here", lang)}
    lines = [f"- **{a['created_at'][:16].replace('T', ' ')} UTC** — {a['text']} *({status.get(a['delivered'], '?')}" + (f": {a['error']}" if a["error"] else "") + ")*" for a in alerts]
    return t("alerts", lang) + "\n" + "\n".join(lines)


def build_dashboard(services, unlocked):
    store = services.feedback.store
    gr.Markdown(label("console_dashboard_help"), elem_id="console-dashboard-help")
    counts = gr.Markdown("", elem_id="console-counts")
    with gr.Row():
        choices = [(label("console_per_day"), "per day"), (label("console_per_hour"), "per hour")]
        period = gr.Radio(choices, value="per day", label=label("console_like_rate"), elem_id="console-period")
        refresh = gr.Button(label("console_refresh"), elem_id="console-refresh", size="sm")
    plot = gr.LinePlot(x="period", y="like_rate", y_lim=[0, 1], title=label("console_like_rate"), x_title=label("console_time_utc"),
                       y_title=label("console_likes_per_vote"), elem_id="console-like-rate")  # fmt: skip
    alerts = gr.Markdown("", elem_id="console-alerts")

    def show_dashboard(unlocked_, period_, request: gr.Request):
        """Counts, like-rate plot and alerts (after the password)."""
        lang = page_language(request)
        require(unlocked_, lang)
        error = getattr(services.engine, "model_error", None)
        model = "\n\n" + t("model_not_loaded", lang, error=error) if error else ""
        return counts_text(store, lang) + model, like_rate_frame(store, PERIODS.get(period_, "day")), alerts_text(store, lang)

    outputs = [counts, plot, alerts]
    gr.on([refresh.click, period.change], show_dashboard, [unlocked, period], outputs, api_name="console_dashboard", api_visibility="undocumented")
    return show_dashboard, [unlocked, period], outputs
