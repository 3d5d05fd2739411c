"""The shipped nginx and Caddy configurations in front of two web processes, over https and wss."""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from tests.deploy.proxy import Launch, Proxy, WebPair, free_port
from tests.helpers import PASSWORD, bearer, collect_answer, create_session, register

pytestmark = pytest.mark.model
TUS = {"Tus-Resumable": "1.0.0"}
DATA = random.Random(7).randbytes(3 * 1024 * 1024 + 123)
PERSON = "127.0.0.2"  # the loopback address most tests connect from
CLOSE = {"Connection": "close"}  # a new connection for each request


def _client(proxy: Proxy, source: str = PERSON) -> httpx.AsyncClient:
    """An https client that connects from a loopback address of its own (one 'person')."""
    transport = httpx.AsyncHTTPTransport(verify=proxy.tls, local_address=source)
    return httpx.AsyncClient(base_url=proxy.https, transport=transport, timeout=60)


async def _login(http: httpx.AsyncClient) -> str:
    name = await register(http)
    answer = await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def test_https_headers_redirect_and_both_processes(proxy: Proxy, web: WebPair) -> None:
    served_before = web.health_checks_served(PERSON)  # the other proxy used them too
    async with _client(proxy) as http:
        for _ in range(8):  # spread over the upstreams
            answer = await http.get("/healthz", headers=CLOSE)
            assert answer.status_code == 200
            assert answer.headers["strict-transport-security"].startswith("max-age=")
        name = await register(http)
        login = await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert "secure" in login.headers["set-cookie"].lower()  # COOKIE_SECURE follows https
    served = web.health_checks_served(PERSON)
    assert all(now > before for now, before in zip(served, served_before, strict=True)), served
    async with httpx.AsyncClient(base_url=proxy.http) as plain:
        moved = await plain.get("/files?x=1")
    assert moved.status_code in (301, 308)  # permanent: nginx says 301, Caddy 308
    assert moved.headers["location"] == "https://127.0.0.1/files?x=1"  # same host, port 443


async def _logins_reach_the_app(http: httpx.AsyncClient, name: str, count: int) -> bool:
    """Log in `count` times (requests with a body); True if the application answered all.

    Successful logins, since failed ones count against the address's login limit.
    """
    account = {"username": name, "password": PASSWORD}
    for _ in range(count):
        answer = await http.post("/api/v1/auth/login", json=account, headers=CLOSE)
        if answer.status_code != 200:
            return False
    return True


async def test_a_stopped_web_process_is_skipped(launch_proxy: Launch, web: WebPair) -> None:
    running = web.ports[0]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running}") as direct:
        name = await register(direct)
    alone = launch_proxy([free_port(), running])  # nothing listens on the first port
    async with _client(alone, "127.0.0.4") as http:
        for _ in range(4):  # round robin: the stopped process's turns are retried on the other
            assert (await http.get("/healthz", headers=CLOSE)).status_code == 200
        # Caddy 2.6 cannot retry a request with a body; its health checks take the stopped
        # process out of turn within seconds instead. nginx retries such requests at once.
        reached = await _logins_reach_the_app(http, name, 4)
        async with asyncio.timeout(30):
            while not reached:
                await asyncio.sleep(0.2)
                reached = await _logins_reach_the_app(http, name, 4)


async def test_streamed_chat_over_wss(proxy: Proxy) -> None:
    async with _client(proxy) as http:
        token = await _login(http)
        session = await create_session(http, token)
    url = f"wss://localhost:{proxy.https_port}/api/v1/chat/sessions/{session['id']}/ws"
    async with websockets.connect(url, ssl=proxy.tls, additional_headers=bearer(token)) as ws:
        await ws.send(json.dumps({"prompt": "Name three colours."}))
        frames = await collect_answer(ws)
    assert frames[0]["type"] == "start"
    tokens = [f["text"] for f in frames if f["type"] == "token"]
    assert len(tokens) >= 2  # streamed (tokens within 40 ms of each other share a frame)
    assert frames[-1]["type"] == "done"
    assert frames[-1]["tokens"] >= len(tokens)


async def _dropped_patch(proxy: Proxy, path: str, token: str, sent: int) -> None:
    """Send a PATCH's head and `sent` bytes of its body over TLS, then drop the connection."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", proxy.https_port, ssl=proxy.tls, server_hostname="localhost"
    )
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(DATA)}\r\n\r\n"
    )
    writer.write(head.encode() + DATA[:sent])
    await writer.drain()
    writer.close()
    del reader


async def test_tus_upload_paused_and_resumed_then_range(proxy: Proxy) -> None:
    async with _client(proxy) as http:
        token = await _login(http)
        created = await http.post(
            "/api/v1/files/tus", headers={**TUS, **bearer(token), "Upload-Length": str(len(DATA))}
        )
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        path = urlsplit(url).path
        sent = 2 * 1024 * 1024
        await _dropped_patch(proxy, path, token, sent)
        offset = 0
        async with asyncio.timeout(60):  # only an unbuffered proxy passes the first part on
            while offset == 0:
                await asyncio.sleep(0.05)
                probe = await http.head(path, headers={**TUS, **bearer(token)})
                offset = int(probe.headers["Upload-Offset"])
        assert 0 < offset <= sent
        rest = await http.patch(
            path,
            content=DATA[offset:],
            headers={
                **TUS,
                **bearer(token),
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert rest.status_code == 204, rest.text
        raw = f"/f/{path.rsplit('/', 1)[-1]}/raw"
        part = await http.get(raw, headers={**bearer(token), "Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == DATA[1000:2000]
        whole = await http.get(raw, headers=bearer(token))
        assert whole.content == DATA
        etag = whole.headers["etag"]
        again = await http.get(raw, headers={**bearer(token), "If-None-Match": etag})
        assert again.status_code == 304


async def _explained_post(
    http: httpx.AsyncClient, proxy: Proxy, web: WebPair, credentials: dict[str, str]
) -> httpx.Response:
    """Log in; if the proxy cuts the answer, fail with what the proxy and the processes logged.

    Once in a loaded run Caddy sent a 429's headers and then closed the connection before its
    body; the logs are what can tell which side broke it.
    """
    try:
        return await http.post("/api/v1/auth/login", json=credentials)
    except httpx.RemoteProtocolError as exc:
        processes = "\n".join(f"--- web {port}:\n{web.log(port)[-1500:]}" for port in web.ports)
        raise AssertionError(f"{exc}\n--- proxy:\n{proxy.log_tail()}\n{processes}") from exc


async def test_clicks_and_login_limits_see_each_client(proxy: Proxy, web: WebPair) -> None:
    async with _client(proxy, "127.0.0.2") as first, _client(proxy, "127.0.0.3") as second:
        created = await first.post("/api/v1/links", json={"url": "https://example.com/p"})
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        forged = {"X-Forwarded-For": "203.0.113.9"}  # the proxy writes the address it saw
        answer = await second.get(f"/s/{slug}", headers=forged)
        assert answer.status_code == 302
        assert answer.headers["location"] == "https://example.com/p"
        name = await register(first)
        wrong = {"username": name, "password": "not the password"}
        codes = [(await _explained_post(first, proxy, web, wrong)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]  # LOGIN_RATE_LIMIT=3/minute for this client
        other = await _explained_post(second, proxy, web, wrong)
        assert other.status_code == 401  # another person behind the same proxy is not locked out
    assert await web.seen_addresses(f"/s/{slug}") == {"127.0.0.3"}


def test_tls_context_refuses_an_unknown_certificate(proxy: Proxy) -> None:
    """The test's trust is real: a client without the test CA is refused."""
    with pytest.raises(httpx.ConnectError):
        httpx.get(proxy.https + "/healthz", verify=ssl.create_default_context())
