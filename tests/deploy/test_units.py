"""The systemd units pass `systemd-analyze verify` with the real `meatlizard` executable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
INSTALLED = "/srv/meatlizard/.venv/bin/meatlizard"


def _instance_name(unit: Path) -> str:
    return unit.name.replace("@.", "@8001.")  # a template is verified as one of its instances


@pytest.mark.parametrize("unit", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    text = unit.read_text()
    assert INSTALLED in text  # the documented install path
    executable = Path(sys.executable).with_name("meatlizard")
    copy = tmp_path / _instance_name(unit)
    copy.write_text(text.replace(INSTALLED, str(executable)))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 on some mistakes (an unknown value is "ignored"), so any word counts.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == "", result.stderr
