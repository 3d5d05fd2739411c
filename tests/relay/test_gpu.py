"""GPU stats: parsed from a real nvidia-smi where present, null where not."""

from __future__ import annotations

import os
import platform
import stat
from pathlib import Path

import pytest

from meatlizard.relay.gpu import IOREG, parse_ioreg, parse_nvidia_smi, read_gpu_stats


def test_parse_first_gpu_and_unknown_fields() -> None:
    stats = parse_nvidia_smi("37, 10240, 14336, 61\n5, 1, 2, 3\n")
    assert (stats.utilization, stats.memory_free, stats.memory_used, stats.temperature) == (
        37.0,
        10240.0,
        14336.0,
        61.0,
    )
    partial = parse_nvidia_smi("[N/A], 100, 200, [N/A]")
    assert partial.utilization is None and partial.memory_used == 200.0
    assert parse_nvidia_smi("").utilization is None
    assert parse_nvidia_smi("garbage").memory_free is None


async def test_no_nvidia_smi_means_all_null(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    stats = await read_gpu_stats()
    assert stats.model_dump() == {
        "utilization": None,
        "memory_free": None,
        "memory_used": None,
        "temperature": None,
    }


async def test_a_real_nvidia_smi_binary_is_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "nvidia-smi"
    query = "--query-gpu=utilization.gpu,memory.free,memory.used,temperature.gpu"
    script = f'#!/bin/sh\n[ "$1" = "{query}" ] || exit 9\necho "12, 3000, 5000, 44"\n'
    fake.write_text(script)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    stats = await read_gpu_stats()
    assert (stats.utilization, stats.temperature) == (12.0, 44.0)


# `ioreg -r -d 1 -w 0 -c IOAccelerator` on an M2 Pro (macOS 14), shortened to the parts read.
IOREG_M2 = (
    "+-o AGXAcceleratorG14X  <class AGXAcceleratorG14X, id 0x1000007c6, registered, matched,"
    " active, busy 0 (0 ms), retain 57>\n"
    "    {\n"
    '      "IOClass" = "AGXAcceleratorG14X"\n'
    '      "PerformanceStatistics" = {"In use system memory (driver)"=0,'
    '"Alloc system memory"=1426046976,"Tiler Utilization %"=3,"recoveryCount"=0,'
    '"Renderer Utilization %"=2,"TiledSceneBytes"=1048576,"Device Utilization %"=41,'
    '"SplitSceneCount"=0,"In use system memory"=478511104}\n'
    '      "model" = "Apple M2 Pro"\n'
    '      "gpu-core-count" = 19\n'
    "    }\n"
)


def test_parse_apple_gpu_statistics() -> None:
    stats = parse_ioreg(IOREG_M2)
    assert stats.utilization == 41.0
    assert stats.memory_used == 456.3  # MiB in use by the GPU (unified memory)
    assert stats.memory_free is None and stats.temperature is None  # unknown without root
    assert parse_ioreg("+-o IOService  <class IOService>").utilization is None


async def test_ioreg_is_asked_on_a_mac(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "ioreg"
    arguments = " ".join(IOREG[1:])
    fake.write_text(
        f"#!/bin/sh\n[ \"$*\" = \"{arguments}\" ] || exit 9\nprintf '%s' '{IOREG_M2}'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))  # printf is a shell builtin
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    stats = await read_gpu_stats()
    assert (stats.utilization, stats.memory_used) == (41.0, 456.3)
