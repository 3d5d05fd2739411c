"""Admin models API and page: add an uploaded GGUF, list, make default, remove; members refused."""

from __future__ import annotations

import struct

import httpx

from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def tiny_gguf(layers: int = 2, context: int = 4096) -> bytes:
    """A GGUF v3 header with the keys the platform reads (no tensors)."""
    pairs = [
        (_string("general.architecture"), 8, _string("qwen2")),
        (_string("qwen2.block_count"), 4, struct.pack("<I", layers)),
        (_string("qwen2.context_length"), 4, struct.pack("<I", context)),
        (_string("general.file_type"), 4, struct.pack("<I", 15)),
        (_string("tokenizer.chat_template"), 8, _string("{{ messages }}")),
    ]
    body = b"".join(key + struct.pack("<I", kind) + value for key, kind, value in pairs)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs)) + body


async def _upload(client: httpx.AsyncClient, token: str, name: str, data: bytes) -> str:
    answer = await client.put(f"/api/v1/files/{name}", content=data, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    file_id: str = answer.json()["id"]
    return file_id


async def test_admin_adds_an_uploaded_gguf(client: httpx.AsyncClient, services: Services) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    file_id = await _upload(client, admin, "qwen-tiny.gguf", tiny_gguf())
    added = await client.post(
        "/api/v1/admin/models",
        json={"name": "qwen-tiny", "file_id": file_id},
        headers=bearer(admin),
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["architecture"], body["context_length"], body["quantisation"]) == (
        "qwen2",
        4096,
        "Q4_K_M",
    )
    assert "within seconds" in body["note"]
    stored = services.settings.data_dir / "models" / "qwen-tiny.gguf"
    assert stored.read_bytes() == tiny_gguf()

    listed = (await client.get("/api/v1/admin/models", headers=bearer(admin))).json()
    row = next(m for m in listed if m["name"] == "qwen-tiny")
    assert (
        row["source"] == "registered" and row["loaded"] is False and row["size"] == len(tiny_gguf())
    )
    page = await client.get("/admin/models", headers=bearer(admin))
    assert page.status_code == 200 and "qwen-tiny" in page.text and "Q4_K_M" in page.text
    assert "A new model or a new default is served within seconds" in page.text

    for method, path in [
        ("GET", "/api/v1/admin/models"),
        ("DELETE", "/api/v1/admin/models/qwen-tiny"),
    ]:
        assert (await client.request(method, path, headers=bearer(member))).status_code == 403
    assert (await client.get("/admin/models", headers=bearer(member))).status_code == 403

    made = await client.put("/api/v1/admin/models/qwen-tiny/default", headers=bearer(admin))
    assert made.status_code == 204
    removed = await client.delete("/api/v1/admin/models/qwen-tiny", headers=bearer(admin))
    assert removed.status_code == 204
    assert not stored.exists()
    gone = await client.delete("/api/v1/admin/models/qwen-tiny", headers=bearer(admin))
    assert gone.status_code == 404


async def test_bad_uploads_are_refused_with_a_reason(
    client: httpx.AsyncClient, services: Services
) -> None:
    admin = await user_token(client)
    page = await _upload(client, admin, "page.gguf", b"<html>sign in</html>")
    refused = await client.post(
        "/api/v1/admin/models", json={"name": "page", "file_id": page}, headers=bearer(admin)
    )
    assert refused.status_code == 422
    assert "not a GGUF file" in str(refused.json()["detail"])
    named = await client.post(
        "/api/v1/admin/models", json={"name": "../x", "file_id": page}, headers=bearer(admin)
    )
    assert named.status_code == 422 and "model name '../x'" in str(named.json()["detail"])
    other = await user_token(client)
    theirs = await _upload(client, other, "theirs.gguf", tiny_gguf())
    stolen = await client.post(
        "/api/v1/admin/models", json={"name": "t", "file_id": theirs}, headers=bearer(admin)
    )
    assert stolen.status_code == 404  # only the admin's own uploads
    folder = services.settings.data_dir / "models"
    assert not folder.exists() or [p.name for p in folder.iterdir()] == []
