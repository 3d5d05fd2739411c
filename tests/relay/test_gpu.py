"""GPU stats: parsed from a real nvidia-smi where present, null where not."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from meatlizard.relay.gpu import parse_nvidia_smi, read_gpu_stats


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
