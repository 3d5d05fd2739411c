"""GET /p/{id}/raw and GET /p/{id} answered from the paste cache, ahead of FastAPI routing.

Only the plain case is handled here: a cached, unexpired shareable paste (see hot.py) read
without an Authorization header, and its page only by a visitor without a session cookie
(the page names its user). Everything else (a cache miss, burn-after-read, password and
private pastes, logged-in pages, HEAD, other paths, any error) falls through to the routes
in pages.py, which answer as before and store what they read for the next reader. The
answers are the routes' own: same body, headers, validators and CSRF cookie.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from markupsafe import Markup, escape
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from meatlizard.api.deps import CSRF_COOKIE, SESSION_COOKIE, settings_of
from meatlizard.core.security import csrf_token_fits, new_csrf_token, secure_cookie
from meatlizard.pastes.caching import REVALIDATE, REVALIDATE_PRIVATE, held, page_tag
from meatlizard.pastes.content import download_name
from meatlizard.pastes.deps import pastes_of
from meatlizard.pastes.hot import CachedPaste
from meatlizard.web.render import NAV, templates

PATH = re.compile(r"/p/([A-Za-z0-9_-]{1,16})(/raw)?")
# Stands for the CSRF token in a page drawn once per paste; unguessable, so no text has it.
MARKER = new_csrf_token(None)
TEXT = b"text/plain; charset=utf-8"
HTML = b"text/html; charset=utf-8"
RawHeaders = list[tuple[bytes, bytes]]


class PasteFastPath:
    """Serve hot shareable pastes without routing, dependencies or a database session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            match = PATH.fullmatch(scope["path"])
        if match is None or not await self._served(scope, send, match[1], bool(match[2])):
            await self.app(scope, receive, send)

    async def _served(self, scope: Scope, send: Send, paste_id: str, raw: bool) -> bool:
        """Send the answer and return True, or return False having sent nothing."""
        authorization = cookie = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"cookie" and cookie is None:
                cookie = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
        if authorization is not None:  # a token may be wrong (401) or name the owner
            return False
        state = scope["app"].state
        try:
            cookies = cookie_parser(cookie) if cookie and not raw else {}  # pages only
            if cookies.get(SESSION_COOKIE):
                return False
            entry = await pastes_of(state).lookup(paste_id)
            if entry is None:
                return False
            if raw:
                status, headers, body = _raw(entry, if_none_match)
            else:
                csrf = cookies.get(CSRF_COOKIE)
                secure = secure_cookie(settings_of(state).cookie_secure, scope["scheme"])
                status, headers, body = _page(entry, csrf, if_none_match, secure)
        except Exception:  # the route meets the same problem and reports it properly
            return False
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True


def _raw(entry: CachedPaste, if_none_match: str | None) -> tuple[int, RawHeaders, bytes]:
    headers = [(b"cache-control", REVALIDATE.encode()), (b"etag", entry.raw_tag.encode())]
    if held(if_none_match, entry.raw_tag):
        return 304, headers, b""
    return 200, [(b"content-type", TEXT), *headers], entry.content.encode()


def _page(
    entry: CachedPaste, csrf_cookie: str | None, if_none_match: str | None, secure: bool
) -> tuple[int, RawHeaders, bytes]:
    headers = [(b"cache-control", REVALIDATE_PRIVATE.encode())]
    if not csrf_token_fits(csrf_cookie, None):  # visitors here have no session cookie
        csrf_cookie = None
    if csrf_cookie is not None:  # else the page gets a fresh token, which no tag can name
        etag = page_tag(entry.version, "", csrf_cookie)
        headers.append((b"etag", etag.encode()))
        if held(if_none_match, etag):
            return 304, headers, b""
    token = csrf_cookie or new_csrf_token(None)
    if token != csrf_cookie:
        cookie = f"{CSRF_COOKIE}={token}; Path=/; SameSite=strict" + ("; Secure" * secure)
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    if entry.page is None:
        entry.page = [part.encode() for part in _draw(entry).split(MARKER)]
    return 200, [(b"content-type", HTML), *headers], str(escape(token)).encode().join(entry.page)


def _draw(entry: CachedPaste) -> str:
    """Draw the page an anonymous visitor gets, with MARKER where the CSRF token goes."""
    context = {
        "request": SimpleNamespace(url=SimpleNamespace(path=f"/p/{entry.id}")),
        "user": None,
        "section": "paste",
        "nav": NAV,
        "csrf_token": MARKER,
        "paste": entry,
        "code": None if entry.lines is None else Markup(entry.lines),
        "filename": download_name(entry.id, entry.title, entry.language, encrypted=False),
        "file_download": download_name(entry.id, entry.title, entry.language, entry.encrypted),
        "can_delete": False,
    }
    return templates.get_template("paste_view.html").render(context)
