"""The container image builds the same llama-server as `make install` (CI cannot build images)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def pinned(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    assert match, pattern
    return match.group(1)


def test_the_image_pins_the_makefiles_llama_server_and_flags() -> None:
    makefile = (ROOT / "Makefile").read_text()
    image = (ROOT / "Dockerfile").read_text()
    version = pinned(r"^LLAMA_BIN_VERSION := (\S+)$", makefile)
    assert pinned(r"^ARG LLAMA_BIN_VERSION=(\S+)$", image) == version
    # The portable x86-64 flags of the wheel and the server (a native build crashed in AMX).
    flags = pinned(r"^LLAMA_CMAKE := (-DGGML_NATIVE=OFF .+)$", makefile)
    assert pinned(r'^ARG CMAKE_ARGS="(.+)"$', image) == flags
    # Installed beside the image's Python, where MODEL_ENGINE=auto looks.
    assert "cp /tmp/lcb/build/bin/llama-server /usr/local/bin/llama-server" in image
    assert "--target llama-server" in image and "$CMAKE_ARGS" in image
