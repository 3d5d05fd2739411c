"""WebVTT caption files: checked line by line before they are stored."""

from __future__ import annotations

import re

from meatlizard.core.errors import InvalidInput, TooLarge

MAX_CAPTION_BYTES = 512 * 1024
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
CUE_TIMING_RE = re.compile(rf"^{TIME}[ \t]+-->[ \t]+{TIME}(?:[ \t]+.*)?$")
HEADER_RE = re.compile(r"^WEBVTT(?:[ \t].*)?$")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def check_lang(lang: str) -> str:
    """Return a BCP 47 style language tag (`en`, `pt-BR`), or raise InvalidInput."""
    if not LANG_RE.match(lang):
        raise InvalidInput(f"language {lang!r} is not a language tag like 'en' or 'pt-BR'")
    return lang


def validate_vtt(data: bytes) -> str:
    """Return the text if it is valid WebVTT with at least one cue; else say what is wrong."""
    if len(data) > MAX_CAPTION_BYTES:
        raise TooLarge(f"captions are {len(data)} bytes; the limit is {MAX_CAPTION_BYTES}")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"captions must be UTF-8 (bad byte at offset {exc.start})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not HEADER_RE.match(lines[0]):
        raise InvalidInput("captions must start with the line 'WEBVTT' (this is not a WebVTT file)")
    cues = 0
    for number, line in enumerate(lines[1:], start=2):
        if "-->" not in line:
            continue
        match = CUE_TIMING_RE.match(line.strip())
        if match is None:
            raise InvalidInput(
                f"line {number}: bad cue timing {line.strip()!r}; "
                "expected like '00:01.000 --> 00:04.000'"
            )
        groups = match.groups()
        start, end = _seconds(*groups[:4]), _seconds(*groups[4:])
        if end <= start:
            raise InvalidInput(f"line {number}: the cue ends before it starts")
        cues += 1
    if cues == 0:
        raise InvalidInput("captions have no cues (lines like '00:01.000 --> 00:04.000')")
    return text
