"""Sample videos made with ffmpeg's test sources; video tests skip when ffmpeg is absent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from meatlizard.videos.transcode import tools_missing


def make_sample(path: Path, size: str, seconds: int, *, audio: bool = True) -> bytes:
    """Encode testsrc2 (+ a sine tone) to an H.264/AAC MP4 and return its bytes."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=15:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(args, check=True)
    return path.read_bytes()


@pytest.fixture(scope="session")
def sample_720p(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 4 s 1280x720 clip with sound (ladder: 360p and 720p, never 1080p)."""
    if tools_missing():
        pytest.skip(f"video tests need ffmpeg: {tools_missing()} (make ffmpeg installs it)")
    return make_sample(tmp_path_factory.mktemp("video") / "sample.mp4", "1280x720", 4)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Transcode fast in tests."""
    return {"video_x264_preset": "ultrafast"}
