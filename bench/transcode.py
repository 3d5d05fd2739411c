"""Platform transcode time vs the equivalent single ffmpeg command line, in the same run.

Anchor: the exact ffmpeg command the platform builds (HLS ladder + audio + sprite), run
directly. Measured: the platform's whole job minus the database (`transcode()`: ffprobe,
that command with progress parsing, the poster, the thumbnail track; then the master
playlist and the upload of every output into local storage).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from meatlizard.core.storage import LocalStorage
from meatlizard.videos.jobs import content_type_of
from meatlizard.videos.playlists import master_playlist, renditions
from meatlizard.videos.transcode import hls_command, ladder, probe, thumb_plan, transcode


def make_clip(path: Path, seconds: int) -> None:
    """Encode a 1920x1080 30 fps testsrc2 + sine clip (H.264/AAC)."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip


async def anchor(source: Path, work: Path, preset: str) -> float:
    """Time the bare ffmpeg command line."""
    info = await probe(source)
    rungs = ladder(info.width, info.height)
    command = hls_command(source, work, info, rungs, thumb_plan(info), preset)
    command = [arg for arg in command if arg not in ("-progress", "pipe:1")]
    (work / "hls").mkdir(parents=True)
    started = time.perf_counter()
    await asyncio.to_thread(subprocess.run, command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def platform(source: Path, work: Path, storage: LocalStorage, preset: str) -> float:
    """Time the platform's transcode and upload."""

    async def ignore(_: float) -> None:
        return None

    (work / "hls").mkdir(parents=True)
    started = time.perf_counter()
    done = await transcode(source, work, preset=preset, on_progress=ignore)
    found = renditions(work / "hls", done.rungs, done.probe.has_audio)
    (work / "hls" / "master.m3u8").write_text(master_playlist(found))
    paths = await asyncio.to_thread(lambda: sorted(p for p in work.rglob("*") if p.is_file()))
    for path in paths:
        key = "videos/bench/" + path.relative_to(work).as_posix()
        await storage.put_bytes(key, path.read_bytes(), content_type=content_type_of(path.name))
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="clip length")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "clip.mp4"
        make_clip(source, args.seconds)
        storage = LocalStorage(root / "storage")
        await storage.prepare()
        raw, served = [], []
        for run in range(args.runs):  # alternate so both see the same machine load
            raw.append(await anchor(source, root / f"a{run}", args.preset))
            served.append(await platform(source, root / f"p{run}", storage, args.preset))
            shutil.rmtree(root / f"a{run}")
            shutil.rmtree(root / f"p{run}")
    a, p = statistics.median(raw), statistics.median(served)
    print(f"1920x1080 {args.seconds}s clip, preset {args.preset}, {args.runs} runs, medians")
    print(f"ffmpeg command line  {a:.2f} s   runs {[round(x, 2) for x in raw]}")
    print(f"platform transcode   {p:.2f} s   runs {[round(x, 2) for x in served]}")
    print(f"ratio platform/ffmpeg: {p / a:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
