"""Read real GPU stats where the device allows it; report unknown (null) elsewhere."""

from __future__ import annotations

import asyncio
import logging
import shutil

from meatlizard.relay.wire import GpuStats

log = logging.getLogger(__name__)
QUERY = "utilization.gpu,memory.free,memory.used,temperature.gpu"
TIMEOUT_SECONDS = 5.0


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


async def read_gpu_stats() -> GpuStats:
    """Ask nvidia-smi when present; all fields are None on machines without it."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return GpuStats()
    try:
        proc = await asyncio.create_subprocess_exec(
            binary,
            f"--query-gpu={QUERY}",
            "--format=csv,noheader,nounits",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as exc:
        log.warning("nvidia-smi failed: %s", exc)
        return GpuStats()
    if proc.returncode != 0:
        return GpuStats()
    return parse_nvidia_smi(out.decode(errors="replace"))
