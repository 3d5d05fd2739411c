"""Typed dependency of the video routes: the transcode jobs, made once by the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meatlizard.videos.jobs import VideoJobs


async def get_video_jobs(request: Request) -> VideoJobs:
    """Return the video transcoder's jobs."""
    videos: VideoJobs = request.app.state.services.videos
    return videos


VideoJobsDep = Annotated[VideoJobs, Depends(get_video_jobs)]
