"""`meatlizard backup`, `backups` and `restore` as an operator runs them (embedded default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meatlizard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_backup_list_and_restore_into_a_new_database(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    assert _cli("create-admin", "boss", "--password", "a strong password", env=env).returncode == 0
    made = _cli("backup", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.split()[0]
    assert key.startswith("backups/meatdb-") and key.endswith(".sqlite.gz")
    assert key in _cli("backups", env=env).stdout

    fresh = {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"}
    restored = _cli("restore", key, env=fresh)
    assert restored.returncode == 0, restored.stderr
    assert "users: 1 rows" in restored.stdout
    again = _cli("restore", key, env=fresh)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    assert _cli("restore", key, "--force", env=fresh).returncode == 0
