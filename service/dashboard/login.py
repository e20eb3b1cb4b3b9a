"""The sign-in page: a form that posts the token in its body (never in a URL) to /login."""

from __future__ import annotations

import html
import json

from exportcast.service.dashboard.page import ASSETS, _script

# A link from another site (e-mail, chat) arrives without the SameSite=Strict cookie and is
# sent here; asked from this page, the cookie goes along: already signed in, carry on.
_ALREADY_IN = """<script>
(function (next) {
  fetch(next, { headers: { Accept: "application/json" } })
    .then(function (r) { if (r.ok) window.location.replace(next); })
    .catch(function () {});
})(%s);
</script>"""


def login_html(next_path: str, error: str | None = None) -> str:
    """The form, returning to `next_path` (already checked to be a local path) after."""
    message = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in - exportcast</title>
<link rel="stylesheet" href="{ASSETS}/dashboard.css">
</head>
<body>
<header><h1>exportcast</h1></header>
<main>
<h2>Sign in</h2>
<p>This service needs its API token for reads. It is sent once, in this form; the browser
then keeps a session cookie (not the token) until it expires or you sign out.</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<p><label for="token">API token</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required
 autofocus size="40"></p>
<p><button type="submit">Sign in</button></p>
</form>
</main>
{_ALREADY_IN % _script(json.dumps(next_path))}
</body>
</html>
"""
