"""Storage usage on /files, /account and the admin users table; files in My stuff."""

from __future__ import annotations

import re

import httpx

from tests.files.helpers import upload
from tests.helpers import bearer, login, register

MIB = 1024 * 1024


async def test_usage_and_quota_pages(client: httpx.AsyncClient) -> None:
    admin = await login(client, await register(client))
    name = await register(client)
    member = await login(client, name)
    await upload(client, member, b"a" * 2048, "two-k.bin")
    me = (await client.get("/api/v1/files/quota", headers=bearer(member))).json()
    await client.put(
        f"/api/v1/files/quotas/{me['user_id']}",
        json={"quota_bytes": 8 * MIB},
        headers=bearer(admin),
    )
    for page in ("/files", "/account", "/mine"):
        shown = await client.get(page, headers=bearer(member))
        usage = re.search(r'id="storage-usage">(.*?)</p>', shown.text, re.S)
        assert usage is not None, page
        assert "2.0 KiB</strong> of 8.0 MiB used" in usage.group(1), page
        assert 'value="0"' in usage.group(1)  # 2 KiB of 8 MiB rounds to 0 %
    table = (await client.get("/admin", headers=bearer(admin))).text
    row = re.search(rf'data-username="{name}">(.*?)</tr>', table, re.S)
    assert row is not None
    assert f'data-quota-bytes="{8 * MIB}">2.0 KiB / 8.0 MiB</td>' in row.group(1)
    assert "data-quota-edit" in row.group(1)
    admin_row = re.search(r'data-user="1" data-username="[^"]+">(.*?)</tr>', table, re.S)
    assert admin_row is not None and "(default)" in admin_row.group(1)


async def test_my_stuff_lists_files_with_delete(client: httpx.AsyncClient) -> None:
    admin = await login(client, await register(client))
    member = await login(client, await register(client))
    other = await login(client, await register(client))
    mine = await upload(client, member, b"mine", "mine.txt")
    theirs = await upload(client, other, b"theirs", "theirs.txt")
    page = (await client.get("/mine", headers=bearer(member))).text
    assert f'data-delete-file="{mine}"' in page and "mine.txt" in page
    assert theirs not in page
    own = (await client.get("/mine", headers=bearer(admin))).text
    assert mine not in own and theirs not in own  # an admin's own things, until they switch
    everyone = (await client.get("/mine?everyone=true", headers=bearer(admin))).text
    assert mine in everyone and theirs in everyone
    assert theirs not in (await client.get("/mine?everyone=true", headers=bearer(member))).text
    assert f'data-delete-file="{mine}"' not in everyone  # admins moderate via reports
    deleted = await client.delete(f"/api/v1/files/{mine}", headers=bearer(member))
    assert deleted.status_code == 204
    page = (await client.get("/mine", headers=bearer(member))).text
    assert "mine.txt" not in page and "No files yet" in page
    js = (await client.get("/static/js/links.js")).text
    assert "data-delete-file" in js and "/api/v1/files/" in js
