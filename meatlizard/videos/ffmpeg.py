"""ffprobe and ffmpeg as processes: what a source holds, and a run reporting its progress."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from meatlizard.videos.inputs import SOURCE_OPTIONS, refusal

STDERR_TAIL_LINES = 25
STDERR_TAIL_CHARS = 2000

Progress = Callable[[float], Awaitable[None]]

# Encodes run at the lowest CPU priority: on a box that also decodes chat answers, llama.cpp's
# threads meet at a barrier every layer, and one normal-priority process beside two decoding
# threads cut them from 105 to 7 tokens/s; at nice 19, to 81 (bench/threads_contention.py).
BACKGROUND_NICENESS = 19


def in_background(args: list[str]) -> list[str]:
    """Return the command run at the lowest CPU priority (through `nice` where there is one)."""
    nice = shutil.which("nice")
    return [nice, "-n", str(BACKGROUND_NICENESS), *args] if nice else args


class TranscodeError(Exception):
    """ffprobe or ffmpeg refused the input or failed; the message is their reason."""


def tools_missing() -> str | None:
    """Return why transcoding is impossible here (ffmpeg/ffprobe absent), or None."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (Debian: apt-get install ffmpeg)"
    return None


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a source: displayed size, duration and whether it has sound."""

    duration: float
    width: int
    height: int
    has_audio: bool


def even_pixels(value: float) -> int:
    """Return `value` rounded down to an even pixel count (at least 2), as H.264 needs."""
    return max(2, int(value) // 2 * 2)


def stderr_tail(text: str, workdir: Path | None = None) -> str:
    """Return the last lines of a tool's stderr, with the scratch folder's path left out."""
    if workdir is not None:
        text = text.replace(str(workdir) + "/", "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:] or "no message"


async def probe(source: Path) -> Probe:
    """Describe the source with ffprobe's JSON, or raise TranscodeError with its reason."""
    process = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", *SOURCE_OPTIONS, "-print_format", "json", "-show_format",
        "-show_streams", str(source), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        reason = err.decode(errors="replace")
        raise TranscodeError(f"ffprobe: {refusal(reason) or stderr_tail(reason, source.parent)}")
    info = json.loads(out or b"{}")
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None or not video.get("width"):
        raise TranscodeError("ffprobe: the file has no video stream")
    width, height = int(video["width"]), int(video["height"])
    rotation = next(
        (int(d.get("rotation", 0)) for d in video.get("side_data_list", []) if "rotation" in d), 0
    )
    if abs(rotation) % 180 == 90:  # phones store portrait video sideways; ffmpeg turns it
        width, height = height, width
    duration = float(info.get("format", {}).get("duration") or video.get("duration") or 0)
    if duration <= 0:
        raise TranscodeError("ffprobe: the video has no duration (is it a still image?)")
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    return Probe(duration=duration, width=width, height=height, has_audio=has_audio)


async def run_ffmpeg(
    args: list[str], duration: float, on_progress: Progress, workdir: Path
) -> None:
    """Run ffmpeg, reporting out_time_us / duration from `-progress pipe:1`; raise on failure."""
    process = await asyncio.create_subprocess_exec(
        *in_background(args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    errors: deque[str] = deque(maxlen=STDERR_TAIL_LINES * 4)

    async def drain_stderr() -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            errors.append(line.decode(errors="replace"))

    reader = asyncio.create_task(drain_stderr())
    try:
        async for raw in process.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
                await on_progress(min(0.99, max(0.0, int(value) / (duration * 1e6))))
        await process.wait()
        await reader
    except BaseException:  # cancelled (shutdown) or the callback failed: stop ffmpeg too
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        reader.cancel()
        raise
    if process.returncode != 0:
        reason = stderr_tail("".join(errors), workdir)
        raise TranscodeError(f"ffmpeg exited with status {process.returncode}: {reason}")
