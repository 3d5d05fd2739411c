"""The HLS master playlist, with each variant's bandwidth measured from its segments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meatlizard.videos.transcode import AAC_CODEC, H264_CODEC, Rung

AUDIO_GROUP = "audio"


def measure(playlist: Path) -> tuple[int, int]:
    """Return (peak, average) bits per second of a VOD media playlist's segments."""
    peak, total_bits, total_seconds = 0, 0, 0.0
    duration: float | None = None
    init_bits = 0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            init_bits = (playlist.parent / line.split('"')[1]).stat().st_size * 8
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            bits = (playlist.parent / line).stat().st_size * 8
            if duration > 0:
                peak = max(peak, round(bits / duration))
            total_bits, total_seconds, duration = total_bits + bits, total_seconds + duration, None
    average = round((total_bits + init_bits) / total_seconds) if total_seconds else peak
    return max(peak, average, 1), max(average, 1)


def renditions(hls: Path, rungs: list[Rung], has_audio: bool) -> list[dict[str, Any]]:
    """Describe every written rendition (name, size, measured bandwidth, playlist path)."""
    found: list[dict[str, Any]] = []
    for rung in rungs:
        peak, average = measure(hls / rung.name / "index.m3u8")
        found.append(
            {
                "name": rung.name,
                "kind": "video",
                "width": rung.width,
                "height": rung.height,
                "bandwidth": peak,
                "average_bandwidth": average,
                "playlist": f"{rung.name}/index.m3u8",
            }
        )
    if has_audio:
        peak, average = measure(hls / "audio" / "index.m3u8")
        found.append(
            {
                "name": "audio",
                "kind": "audio",
                "width": None,
                "height": None,
                "bandwidth": peak,
                "average_bandwidth": average,
                "playlist": "audio/index.m3u8",
            }
        )
    return found


def master_playlist(found: list[dict[str, Any]]) -> str:
    """Return master.m3u8: video variants sharing one audio group, then audio only."""
    audio = next((r for r in found if r["kind"] == "audio"), None)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",LANGUAGE="und",'
            f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="{audio["playlist"]}"'
        )
    for rendition in (r for r in found if r["kind"] == "video"):
        peak, average = rendition["bandwidth"], rendition["average_bandwidth"]
        codecs = H264_CODEC
        group = ""
        if audio is not None:
            peak, average = peak + audio["bandwidth"], average + audio["average_bandwidth"]
            codecs += f",{AAC_CODEC}"
            group = f',AUDIO="{AUDIO_GROUP}"'
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},"
            f'RESOLUTION={rendition["width"]}x{rendition["height"]},CODECS="{codecs}"{group}'
        )
        lines.append(rendition["playlist"])
    if audio is not None:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={audio['bandwidth']},"
            f'AVERAGE-BANDWIDTH={audio["average_bandwidth"]},CODECS="{AAC_CODEC}"'
        )
        lines.append(audio["playlist"])
    return "\n".join(lines) + "\n"
