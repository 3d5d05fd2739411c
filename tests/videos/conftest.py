"""Sample videos made with ffmpeg's test sources; video tests skip when ffmpeg is absent."""

from __future__ import annotations

import pytest

from meatlizard.videos.transcode import tools_missing
from tests.videos.helpers import make_sample


@pytest.fixture(scope="session")
def sample_720p(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 4 s 1280x720 clip with sound (ladder: 360p and 720p, never 1080p)."""
    if tools_missing():
        pytest.skip(f"video tests need ffmpeg: {tools_missing()} (make ffmpeg installs it)")
    return make_sample(tmp_path_factory.mktemp("video") / "sample.mp4", "1280x720", 4)
