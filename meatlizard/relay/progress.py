"""Where one relayed request stands, as the web process that sent it follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meatlizard.inference.scheduler import QueueListener


@dataclass
class Progress:
    """Where one request stands: its request entry, when it was sent, when a reply last came."""

    entry_id: Any
    started: float
    last: float = 0.0
    request_id: str = ""
    alias: str = ""
    on_queued: QueueListener | None = None  # hears the place in line while no worker has it
    resumable: bool = True  # the worker answering is a relay whose successor resumes
    ahead: int | None = None  # the place last told

    def __post_init__(self) -> None:
        self.last = self.started
