"""ffprobe and ffmpeg: probe a source, then one pass to an HLS ladder, audio and thumbnails."""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from meatlizard.videos.ffmpeg import (
    Probe,
    Progress,
    TranscodeError,
    even_pixels,
    probe,
    run_ffmpeg,
    stderr_tail,
    tools_missing,
)
from meatlizard.videos.inputs import SOURCE_OPTIONS

LADDER = [(360, 800), (720, 2800), (1080, 5000)]  # (height, video kbit/s); never upscaled
AUDIO_KBPS = 128
SEGMENT_SECONDS = 4
H264_PROFILE, H264_LEVEL, H264_CODEC = "high", "4.1", "avc1.640029"
AAC_CODEC = "mp4a.40.2"
THUMB_WIDTH = 160
MAX_THUMBS = 100
SPRITE_COLUMNS = 10
POSTER_MAX_HEIGHT = 720

# Playlists, init segments, the poster and the thumbnail sprite, on top of the media.
EXTRA_OUTPUT_BYTES = 4 * 1024 * 1024
SHARE_NAME = "share.mp4"  # the lowest rung as one progressive MP4, for link previews
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Rung:
    """One video rendition of the ladder."""

    name: str
    width: int
    height: int
    video_kbps: int


@dataclass(frozen=True)
class ThumbPlan:
    """Thumbnails for the seek bar: one every `interval` seconds, tiled into one sprite."""

    interval: float
    count: int
    columns: int
    rows: int
    width: int
    height: int


def ladder(width: int, height: int) -> list[Rung]:
    """Return the rungs at or below the source height; a small source gets one at its size."""
    rungs = [
        Rung(f"{h}p", even_pixels(width * h / height), h, kbps) for h, kbps in LADDER if h <= height
    ]
    if not rungs:
        small = even_pixels(height)
        rungs = [Rung(f"{small}p", even_pixels(width * small / height), small, LADDER[0][1])]
    return rungs


def estimate_bytes(probe: Probe, rungs: list[Rung]) -> int:
    """Return an upper estimate of the renditions' size: every rung at its maxrate, and audio."""
    audio = AUDIO_KBPS if probe.has_audio else 0
    kbps = sum(rung.video_kbps * 3 // 2 for rung in rungs) + audio
    kbps += rungs[0].video_kbps * 3 // 2 + audio  # share.mp4 holds the lowest rung again
    return math.ceil(probe.duration * kbps * 1000 / 8) + EXTRA_OUTPUT_BYTES


def thumb_plan(probe: Probe) -> ThumbPlan:
    """Return one thumbnail per second, or fewer so that at most MAX_THUMBS fit in the sprite."""
    interval = max(1.0, math.ceil(probe.duration / MAX_THUMBS))
    count = max(1, math.ceil(probe.duration / interval))
    columns = min(SPRITE_COLUMNS, count)
    rows = math.ceil((count + 1) / columns)  # room for the fps filter's possible extra frame
    height = even_pixels(THUMB_WIDTH * probe.height / probe.width)
    return ThumbPlan(interval, count, columns, rows, THUMB_WIDTH, height)


def hls_command(
    source: Path, out: Path, probe: Probe, rungs: list[Rung], plan: ThumbPlan, preset: str
) -> list[str]:
    """Return the single ffmpeg command writing every rendition and the thumbnail sprite."""
    splits = "".join(f"[s{i}]" for i in range(len(rungs)))
    graph = [f"[0:v]split={len(rungs) + 1}{splits}[st]"]
    graph += [f"[s{i}]scale={r.width}:{r.height}[v{i}]" for i, r in enumerate(rungs)]
    graph.append(
        f"[st]fps=1/{plan.interval:g},scale={plan.width}:{plan.height},"
        f"tile={plan.columns}x{plan.rows}[sprite]"
    )
    args = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-progress", "pipe:1", "-nostats"]
    args += [*SOURCE_OPTIONS, "-i", str(source), "-filter_complex", ";".join(graph)]
    for i in range(len(rungs)):
        args += ["-map", f"[v{i}]"]
    if probe.has_audio:
        args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2"]
    args += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p"]
    args += ["-profile:v", H264_PROFILE, "-level:v", H264_LEVEL]
    args += ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]
    for i, rung in enumerate(rungs):
        kbps = rung.video_kbps
        args += [f"-b:v:{i}", f"{kbps}k", f"-maxrate:v:{i}", f"{kbps * 3 // 2}k"]
        args += [f"-bufsize:v:{i}", f"{kbps * 2}k"]
    streams = [f"v:{i},name:{rung.name}" for i, rung in enumerate(rungs)]
    if probe.has_audio:
        streams.append("a:0,name:audio")
    args += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"]
    args += ["-hls_segment_type", "fmp4", "-hls_flags", "independent_segments"]
    args += ["-hls_fmp4_init_filename", "init.mp4"]
    args += ["-hls_segment_filename", str(out / "hls" / "%v" / "seg_%03d.m4s")]
    args += ["-var_stream_map", " ".join(streams), str(out / "hls" / "%v" / "index.m3u8")]
    args += ["-map", "[sprite]", "-frames:v", "1", "-update", "1", str(out / "sprite.jpg")]
    return args


async def make_poster(source: Path, out: Path, probe: Probe) -> None:
    """Write poster.jpg from a frame a tenth of the way in (at most 5 s)."""
    at = min(probe.duration / 10, 5.0)
    height = min(POSTER_MAX_HEIGHT, even_pixels(probe.height))
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-y", "-v", "error", "-ss", f"{at:.3f}", *SOURCE_OPTIONS,
        "-i", str(source),
        "-frames:v", "1", "-vf", f"scale=-2:{height}", "-q:v", "3", str(out / "poster.jpg"),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0:
        raise TranscodeError(
            f"ffmpeg (poster): {stderr_tail(err.decode(errors='replace'), source.parent)}"
        )


def _join_fragments(folder: Path, target: Path) -> Path:
    """Write the init section and segments of `folder`'s playlist, in order, as one fMP4."""
    names = []
    for line in (folder / "index.m3u8").read_text().splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            names.append(line.split('"')[1])
        elif line and not line.startswith("#"):
            names.append(line)
    with target.open("wb") as joined:
        for name in names:
            with (folder / name).open("rb") as part:
                shutil.copyfileobj(part, joined, COPY_CHUNK)
    return target


async def make_share_mp4(out: Path, rung: Rung, has_audio: bool, scratch: Path) -> None:
    """Write share.mp4: the lowest rung and the audio remuxed (not re-encoded), moov first.

    Link previews (Discord's og:video) play a direct video file, not an HLS playlist.
    """
    hls = out / "hls"
    inputs = [await asyncio.to_thread(_join_fragments, hls / rung.name, scratch / "v.mp4")]
    if has_audio:
        inputs.append(await asyncio.to_thread(_join_fragments, hls / "audio", scratch / "a.mp4"))
    args = ["ffmpeg", "-nostdin", "-y", "-v", "error"]
    for path in inputs:
        args += ["-i", str(path)]
    args += ["-map", "0:v:0"] + (["-map", "1:a:0"] if has_audio else [])
    args += ["-c", "copy", "-movflags", "+faststart", str(out / SHARE_NAME)]
    process = await asyncio.create_subprocess_exec(*args, stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate()
    for path in inputs:
        path.unlink()
    if process.returncode != 0:
        raise TranscodeError(
            f"ffmpeg (share.mp4): {stderr_tail(err.decode(errors='replace'), scratch)}"
        )


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def thumbnails_vtt(plan: ThumbPlan, duration: float, sprite_url: str) -> str:
    """Return the WebVTT thumbnail track: one cue per tile, `sprite#xywh=x,y,w,h`."""
    lines = ["WEBVTT", ""]
    for index in range(plan.count):
        start, end = index * plan.interval, min((index + 1) * plan.interval, duration)
        x = (index % plan.columns) * plan.width
        y = (index // plan.columns) * plan.height
        lines += [f"{_stamp(start)} --> {_stamp(end)}"]
        lines += [f"{sprite_url}#xywh={x},{y},{plan.width},{plan.height}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Transcoded:
    """What a finished transcode wrote into its output folder."""

    probe: Probe
    rungs: list[Rung]
    thumbs: ThumbPlan


async def transcode(
    source: Path,
    out: Path,
    *,
    preset: str,
    on_progress: Progress,
    before_encoding: Callable[[Probe, list[Rung]], Awaitable[None]] | None = None,
) -> Transcoded:
    """Probe `source`, then write hls/, poster.jpg, sprite.jpg, thumbs.vtt, share.mp4 in `out`.

    `before_encoding` sees the probe and the ladder first and may refuse by raising.
    """
    info = await probe(source)
    rungs = ladder(info.width, info.height)
    if before_encoding is not None:
        await before_encoding(info, rungs)
    plan = thumb_plan(info)
    command = hls_command(source, out, info, rungs, plan, preset)
    await run_ffmpeg(command, info.duration, on_progress, source.parent)
    await make_poster(source, out, info)
    await make_share_mp4(out, rungs[0], info.has_audio, source.parent)
    (out / "thumbs.vtt").write_text(thumbnails_vtt(plan, info.duration, "sprite.jpg"))
    await on_progress(1.0)
    return Transcoded(info, rungs, plan)


__all__ = [
    "Probe",
    "Progress",
    "Rung",
    "ThumbPlan",
    "TranscodeError",
    "Transcoded",
    "estimate_bytes",
    "hls_command",
    "ladder",
    "make_poster",
    "make_share_mp4",
    "probe",
    "run_ffmpeg",
    "thumb_plan",
    "thumbnails_vtt",
    "tools_missing",
    "transcode",
]
