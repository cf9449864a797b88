"""The console's lock: a password checked on the server, remembered in server-side state.

The console's components are empty until unlocked, and every console handler starts with
`require(unlocked)`, so its data never reaches a browser (or API client) that has not given
the password — hiding the tab would not be enough.
"""

from __future__ import annotations

import hmac
import time

import gradio as gr

from ariane.web.console.strings import t

WRONG_PASSWORD_DELAY_S = 1.0  # slows password guessing to one try per second per worker


def password_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; always False when no password is configured."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_password(given: str | None, expected: str | None) -> bool:
    ok = password_matches(given, expected)
    if not ok:
        time.sleep(WRONG_PASSWORD_DELAY_S)
    return ok


def require(unlocked, lang: str = "en") -> None:
    """Refuse a console action unless this session unlocked the console (the refusal in `lang`)."""
    if unlocked is not True:
        raise gr.Error(t("locked", lang))
