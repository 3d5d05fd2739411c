"""Redirects and finished uploads are counted on /metrics and on the admin dashboard."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.files.helpers import create, upload
from tests.helpers import bearer, user_token
from tests.links.helpers import create_link, follow


async def _samples(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


REDIRECTS = ("meatlizard_redirects_total", ())
UPLOADS = ("meatlizard_uploads_total", (("kind", "file"),))
BYTES = ("meatlizard_uploaded_bytes_total", ())


async def test_redirects_and_uploads_are_counted(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    before = await _samples(client)
    link = await create_link(client, admin)
    for _ in range(3):
        assert (await follow(client, link["slug"])).status_code == 302
    assert (await client.get("/s/no-such-slug")).status_code == 404  # not a redirect
    await upload(client, admin, b"x" * 1234, "one.bin")
    put = await client.put("/api/v1/files/two.bin", content=b"y" * 100, headers=bearer(admin))
    assert put.status_code == 201
    unfinished = await create(client, admin, 50)  # created, never finished: not an upload
    assert unfinished.status_code == 201
    after = await _samples(client)
    assert after[REDIRECTS] - before.get(REDIRECTS, 0) == 3
    assert after[UPLOADS] - before.get(UPLOADS, 0) == 2
    assert after[BYTES] - before.get(BYTES, 0) == 1334
    page = await client.get("/admin", headers=bearer(admin))
    shown = re.search(r'id="redirects-total">(\d+)<', page.text)
    assert shown is not None and int(shown.group(1)) == after[REDIRECTS]
    uploads = re.search(r'id="uploads-total">(\d+)<', page.text)
    assert uploads is not None and int(uploads.group(1)) == after[UPLOADS]
