"""How many threads llama.cpp should use by default: one per physical core it may run on."""

from __future__ import annotations

import os
from pathlib import Path

_TOPOLOGY = Path("/sys/devices/system/cpu")


def usable_cpus() -> set[int]:
    """Return the logical CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def default_threads() -> int:
    """Return the number of physical cores among the usable CPUs (hyper-threads share one).

    On the quiet 2-core box two threads decoded about twice as fast as llama-cpp-python's
    default of half the CPUs (100-108 against 53 tokens/s); a hyper-thread shares its core's
    arithmetic units, so it is not counted. Under heavy load from other processes one
    thread can do better; set MODEL_THREADS there (bench/RESULTS.md).
    """
    cores: set[tuple[str, str]] = set()
    for cpu in usable_cpus():
        topology = _TOPOLOGY / f"cpu{cpu}" / "topology"
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(len(usable_cpus()), 1)
        cores.add((package, core))
    return max(len(cores), 1)
