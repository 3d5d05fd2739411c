"""The admin API and page with BACKUP_TARGET set: backups go there, with the objects."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    """Backups to a folder outside the data folder."""
    return {"backup_target": str(tmp_path / "other-disk")}


async def test_admin_backs_up_to_the_target_and_lists_it(
    client: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    admin = await user_token(client)
    await services.storage.put_bytes("files/x/kept.bin", b"kept")
    made = await client.post("/api/v1/admin/backups", headers=bearer(admin))
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert made.json()["objects_count"] == made.json()["objects_copied"] == 1
    assert (tmp_path / "other-disk" / key).is_file()
    assert not await services.storage.list("backups/")
    listed = (await client.get("/api/v1/admin/backups", headers=bearer(admin))).json()
    assert [b["key"] for b in listed] == [key]
    page = (await client.get("/admin", headers=bearer(admin))).text
    assert key in page and str(tmp_path / "other-disk") in page
    assert "backup-warning" not in page
