"""Typed dependency of the video routes: the transcode jobs, made once by the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from meatlizard.api.deps import from_state
from meatlizard.videos.jobs import VideoJobs

VideoJobsDep = Annotated[VideoJobs, Depends(from_state("videos"))]
