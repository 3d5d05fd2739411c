"""Client-bot metrics as the web side received them, kept for the admin dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow


class WorkerMetric(Base):
    """One metrics snapshot of one worker."""

    __tablename__ = "worker_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    is_online: Mapped[bool] = mapped_column(Boolean)
    busy: Mapped[bool] = mapped_column(Boolean)
    tokens_per_second: Mapped[float] = mapped_column(Float)
    gpu_utilization: Mapped[float | None] = mapped_column(Float, default=None)
    gpu_memory_free: Mapped[float | None] = mapped_column(Float, default=None)
    gpu_memory_used: Mapped[float | None] = mapped_column(Float, default=None)
    gpu_temperature: Mapped[float | None] = mapped_column(Float, default=None)
