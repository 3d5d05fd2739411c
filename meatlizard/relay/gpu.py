"""Read real GPU stats where the device allows it; report unknown (null) elsewhere."""

from __future__ import annotations

import asyncio
import logging
import platform
import re
import shutil

from meatlizard.relay.wire import GpuStats

log = logging.getLogger(__name__)
QUERY = "utilization.gpu,memory.free,memory.used,temperature.gpu"
TIMEOUT_SECONDS = 5.0
# Apple silicon: the GPU driver's statistics, readable without root (unlike powermetrics).
IOREG = ("ioreg", "-r", "-d", "1", "-w", "0", "-c", "IOAccelerator")
MIB = 1024 * 1024


def parse_nvidia_smi(output: str) -> GpuStats:
    """Parse `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` (first GPU)."""
    line = output.strip().splitlines()[0] if output.strip() else ""
    fields = [f.strip() for f in line.split(",")]
    if len(fields) != 4:
        return GpuStats()

    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:  # "[N/A]" and friends
            return None

    utilization, free, used, temperature = (number(f) for f in fields)
    return GpuStats(
        utilization=utilization, memory_free=free, memory_used=used, temperature=temperature
    )


def parse_ioreg(output: str) -> GpuStats:
    """Parse `ioreg -c IOAccelerator`'s PerformanceStatistics (Apple silicon, no root needed).

    The GPU shares the machine's memory, so only what it uses is known; its temperature needs
    root (powermetrics) and is left unknown.
    """
    stats = re.search(r'"PerformanceStatistics"\s*=\s*\{([^}]*)\}', output)
    if stats is None:
        return GpuStats()
    values = {
        key: float(value)
        for key, value in re.findall(r'"([^"]+)"=(-?\d+(?:\.\d+)?)', stats.group(1))
    }
    used = values.get("In use system memory")
    return GpuStats(
        utilization=values.get("Device Utilization %"),
        memory_used=round(used / MIB, 1) if used is not None else None,
    )


async def _run(*command: str) -> str | None:
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as exc:
        log.warning("%s failed: %s", command[0], exc)
        return None
    return out.decode(errors="replace") if proc.returncode == 0 else None


async def read_gpu_stats() -> GpuStats:
    """Ask nvidia-smi (NVIDIA) or ioreg (Apple); all fields are None where neither answers."""
    binary = shutil.which("nvidia-smi")
    if binary is not None:
        out = await _run(binary, f"--query-gpu={QUERY}", "--format=csv,noheader,nounits")
        return parse_nvidia_smi(out) if out is not None else GpuStats()
    if platform.system() == "Darwin" and shutil.which(IOREG[0]):
        out = await _run(*IOREG)
        return parse_ioreg(out) if out is not None else GpuStats()
    return GpuStats()
