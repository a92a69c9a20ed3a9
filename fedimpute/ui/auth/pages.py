"""The sign-in and signed-out pages: self-contained HTML (no CDN), every value escaped."""

from __future__ import annotations

from html import escape

__all__ = ["login_page"]

_STYLE = """
body {font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0;}
main {max-width: 340px; margin: 12vh auto; background: white; padding: 28px 32px; border-radius: 8px;
      box-shadow: 0 1px 4px rgba(0,0,0,.15);}
h1 {font-size: 1.4em; color: #0072b5; margin: 0 0 18px;}
label {display: block; margin: 12px 0 4px; font-size: .9em;}
input {width: 100%; box-sizing: border-box; padding: 8px; font-size: 1em;}
button {margin-top: 18px; width: 100%; padding: 9px; background: #0072b5; color: white; border: 0;
        border-radius: 4px; font-size: 1em;}
.message {padding: 8px; border-radius: 4px; background: #fdecea; color: #8a1c12; font-size: .9em;}
.message.info {background: #e8f1f8; color: #0b4a75;}
"""

MESSAGES = {
    "invalid": ("Wrong user name or password.", ""),
    "signedout": ("You have signed out.", "info"),
    "expired": ("Your session has ended; please sign in again.", "info"),
}


def login_page(*, next_url: str = "/", message: str = "", kind: str = "", username: str = "") -> str:
    note = f'<p class="message {escape(kind)}" role="alert">{escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fedimpute: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body><main><h1>fedimpute</h1>{note}
<form method="post" action="/login">
<input type="hidden" name="next" value="{escape(next_url)}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" value="{escape(username)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>"""
