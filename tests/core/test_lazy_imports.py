"""Optional backends stay out of a process until its settings select them."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from meatlizard.core.memory import release_large_blocks

# Loaded only by the feature that needs them: S3 storage, Redis, migrations, Discord login,
# QR codes, the PostgreSQL dialect (see the modules that import them).
OPTIONAL = {
    "aiobotocore",
    "botocore",
    "redis",
    "alembic",
    "aiohttp",
    "segno",
    "sqlalchemy.dialects.postgresql",
}
PROBE = """
import json, sys
from meatlizard.app import create_app
from meatlizard.core.settings import Settings
create_app(Settings(data_dir=sys.argv[1]), migrate=False)
print(json.dumps(sorted(sys.modules)))
"""


def test_embedded_app_imports_no_optional_backend(tmp_path: Path) -> None:
    command = [sys.executable, "-c", PROBE, str(tmp_path)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    loaded = set(json.loads(out))
    assert "meatlizard.files.tus" in loaded
    assert loaded.isdisjoint(OPTIONAL), sorted(loaded & OPTIONAL)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
def test_malloc_thresholds_apply_on_glibc() -> None:
    assert release_large_blocks() is True
