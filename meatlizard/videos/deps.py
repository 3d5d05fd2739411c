"""Typed dependencies of the video routes: the transcode jobs, made once by the composition root,
and the one way a route starts a queued transcode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from meatlizard.api.deps import JobsDep, SettingsDep, from_state
from meatlizard.core.jobs import JobRunner
from meatlizard.core.settings import Settings
from meatlizard.videos.jobs import VideoJobs

VideoJobsDep = Annotated[VideoJobs, Depends(from_state("videos"))]


@dataclass(frozen=True)
class TranscodeStarter:
    """Starts a queued video's transcode in this process, unless only `meatlizard worker`
    transcodes (it polls the queue)."""

    settings: Settings
    jobs: JobRunner
    videos: VideoJobs

    def start(self, video_id: str) -> None:
        if self.settings.video_transcode_in_web:
            self.jobs.spawn(self.videos.drain(), name=f"transcode-{video_id}")


def transcode_starter(
    settings: SettingsDep, jobs: JobsDep, videos: VideoJobsDep
) -> TranscodeStarter:
    return TranscodeStarter(settings, jobs, videos)


TranscodeStarterDep = Annotated[TranscodeStarter, Depends(transcode_starter)]
