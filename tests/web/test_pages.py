"""Server-rendered pages: layout, forms with CSRF, redirects, safe output."""

from __future__ import annotations

import re

import httpx

from tests.helpers import PASSWORD, unique_name


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def test_every_section_renders_in_the_shared_layout(client: httpx.AsyncClient) -> None:
    for path in ["/", "/login", "/register", "/paste", "/links", "/files", "/videos"]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert '<link rel="stylesheet" href="/static/css/theme.css">' in response.text
        for label in ["Chat", "Paste", "Links", "Files", "Videos"]:
            assert f">{label}</a>" in response.text
    assert (await client.get("/static/css/theme.css")).status_code == 200
    assert (await client.get("/static/vendor/markdown-it.min.js")).status_code == 200


async def test_register_form_logs_in_and_lands_on_chat(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    name = unique_name()
    response = await client.post(
        "/register",
        data={
            "username": name,
            "password": PASSWORD,
            "password_again": PASSWORD,
            "csrf_token": _csrf(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/chat"
    chat = await client.get("/chat")
    assert chat.status_code == 200
    assert name in chat.text
    assert "No chats yet" in chat.text


async def test_forms_refuse_a_missing_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403


async def test_login_form_shows_error_and_keeps_username(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": "nobody<script>", "password": "wrong", "csrf_token": _csrf(page.text)},
    )
    assert response.status_code == 401
    assert "wrong username or password" in response.text
    assert "nobody&lt;script&gt;" in response.text
    assert "nobody<script>" not in response.text


async def test_login_redirect_target_cannot_leave_the_site(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    name = unique_name()
    await client.post(
        "/register",
        data={
            "username": name,
            "password": PASSWORD,
            "password_again": PASSWORD,
            "csrf_token": _csrf(page.text),
        },
    )
    client.cookies.delete("ml_session")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": name,
            "password": PASSWORD,
            "csrf_token": _csrf(page.text),
            "next": "//evil.example/steal",
        },
    )
    assert response.headers["location"] == "/chat"


async def test_protected_pages_redirect_to_login(client: httpx.AsyncClient) -> None:
    for path in ["/chat", "/account", "/admin"]:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_unknown_page_is_a_themed_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "theme.css" in response.text
    api = await client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


async def test_themed_404_keeps_the_logged_in_header(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    name = unique_name()
    form = {"username": name, "password": PASSWORD, "password_again": PASSWORD}
    await client.post("/register", data={**form, "csrf_token": _csrf(page.text)})
    response = await client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert f'class="who">{name}<' in response.text
    assert 'href="/register"' not in response.text
