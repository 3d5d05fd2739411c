"""The ladder, thumbnail plan, progress parsing and ETA, on real ffmpeg where it matters."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from meatlizard.core.db import utcnow
from meatlizard.videos.ffmpeg import BACKGROUND_NICENESS
from meatlizard.videos.models import Video
from meatlizard.videos.service import eta_seconds
from meatlizard.videos.transcode import Probe, ladder, thumb_plan, transcode


def test_ladder_never_upscales_and_has_at_least_one_rung() -> None:
    assert [r.name for r in ladder(640, 360)] == ["360p"]
    assert [(r.name, r.width) for r in ladder(1920, 1080)] == [
        ("360p", 640),
        ("720p", 1280),
        ("1080p", 1920),
    ]
    assert [(r.name, r.width) for r in ladder(3840, 2160)][-1] == ("1080p", 1920)
    assert [(r.width, r.height) for r in ladder(320, 181)] == [(318, 180)]
    assert [r.height for r in ladder(720, 1280)] == [360, 720, 1080]


def test_thumbnail_plan_caps_the_sprite() -> None:
    short = thumb_plan(Probe(duration=4.0, width=1280, height=720, has_audio=True))
    assert (short.interval, short.count, short.columns, short.width, short.height) == (
        1.0, 4, 4, 160, 90,
    )  # fmt: skip
    long = thumb_plan(Probe(duration=3600.0, width=1920, height=1080, has_audio=False))
    assert long.count <= 100 and long.interval == 36


def test_eta_from_progress() -> None:
    video = Video(status="processing", progress=0.25, started_at=utcnow() - timedelta(seconds=10))
    eta = eta_seconds(video, now=video.started_at + timedelta(seconds=10))  # type: ignore[operator]
    assert eta == 30.0
    video.progress = 0.0
    assert eta_seconds(video) is None


async def test_progress_is_reported_from_ffmpeg(tmp_path: Path, sample_720p: bytes) -> None:
    source = tmp_path / "source"
    source.write_bytes(sample_720p)
    (tmp_path / "out" / "hls").mkdir(parents=True)
    seen: list[float] = []

    async def record(fraction: float) -> None:
        seen.append(fraction)

    done = await transcode(source, tmp_path / "out", preset="ultrafast", on_progress=record)
    assert seen[-1] == 1.0
    assert any(0 < value < 1 for value in seen)
    assert seen == sorted(seen)
    assert done.probe.has_audio and [r.name for r in done.rungs] == ["360p", "720p"]


def _ffmpeg_children_niceness() -> list[int]:
    """Return the niceness of this process's ffmpeg children (from /proc, Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if name == "ffmpeg" and int(fields[1]) == os.getpid():  # fields: state, ppid, ...
            found.append(int(fields[16]))  # the 19th field of stat: nice
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
async def test_the_encode_runs_at_the_lowest_cpu_priority(
    tmp_path: Path, sample_720p: bytes
) -> None:
    source = tmp_path / "source"
    source.write_bytes(sample_720p)
    (tmp_path / "out" / "hls").mkdir(parents=True)
    seen: list[int] = []

    async def look(fraction: float) -> None:
        if 0 < fraction < 1:
            seen.extend(_ffmpeg_children_niceness())

    await transcode(source, tmp_path / "out", preset="ultrafast", on_progress=look)
    assert seen and set(seen) == {BACKGROUND_NICENESS}, seen
