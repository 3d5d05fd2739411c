"""`meatlizard backup`, `backups` and `restore` as an operator runs them (embedded default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocesses


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


def test_backup_target_folder_survives_a_lost_data_folder(tmp_path: Path) -> None:
    other_disk = tmp_path / "other-disk"
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "BACKUP_TARGET": str(other_disk)}
    assert _cli("create-admin", "boss", "--password", "a strong password", env=env).returncode == 0
    stored = tmp_path / "data" / "storage" / "files" / "1" / "kept.bin"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"\x00kept bytes\xff" * 1000)
    made = _cli("backup", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.split()[0]
    assert key.startswith("meatdb-") and (other_disk / key).is_file()
    assert "objects: 1, 1 copied" in made.stdout
    assert not (tmp_path / "data" / "storage" / "backups").exists()
    assert "objects: 1, 0 copied" in _cli("backup", env=env).stdout

    fresh = {**env, "DATA_DIR": str(tmp_path / "new-machine")}  # the old data folder is gone
    restored = _cli("restore", key, env=fresh)
    assert restored.returncode == 0, restored.stderr
    assert "users: 1 rows" in restored.stdout
    assert (tmp_path / "new-machine" / "storage" / "files" / "1" / "kept.bin").read_bytes() == (
        stored.read_bytes()
    )
    assert key in _cli("backups", env=fresh).stdout


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_wrong_backup_target_stops_the_process_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    relative = _one_line_error(_cli("backup", env={**env, "BACKUP_TARGET": "backups"}))
    assert relative.startswith("meatlizard: setting BACKUP_TARGET: 'backups' is neither")
    inside = _one_line_error(
        _cli("backups", env={**env, "BACKUP_TARGET": str(tmp_path / "data" / "backups")})
    )
    assert inside.startswith("meatlizard: setting BACKUP_TARGET:") and "inside DATA_DIR" in inside
    stray = _one_line_error(
        _cli("backup", env={**env, "BACKUP_S3_ENDPOINT_URL": "http://127.0.0.1:1"})
    )
    assert stray.startswith("meatlizard: setting BACKUP_S3_ENDPOINT_URL: only used with")

    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    unusable = {**env, "BACKUP_TARGET": str(a_file), "LOG_LEVEL": "WARNING"}
    for command in ("backup", "worker"):
        line = _one_line_error(_cli(command, env=unusable))
        assert line.startswith(f"meatlizard: setting BACKUP_TARGET: '{a_file}' cannot be used")
