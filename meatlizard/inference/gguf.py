"""Read the metadata of a GGUF model file: architecture, layers, context length, chat template.

Hand-written rather than the `gguf` package: its reader maps every tensor and every token of
the vocabulary into numpy arrays before it answers (16 s for SmolLM2's 90 MB here), while we
need a few keys from the header. Format: github.com/ggml-org/ggml/blob/master/docs/gguf.md.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from meatlizard.inference.engine import InferenceError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
# Value types: (struct format, size) for the fixed-size ones.
SCALARS: dict[int, tuple[str, int]] = {
    0: ("<B", 1),  # uint8
    1: ("<b", 1),  # int8
    2: ("<H", 2),  # uint16
    3: ("<h", 2),  # int16
    4: ("<I", 4),  # uint32
    5: ("<i", 4),  # int32
    6: ("<f", 4),  # float32
    7: ("<?", 1),  # bool
    10: ("<Q", 8),  # uint64
    11: ("<q", 8),  # int64
    12: ("<d", 8),  # float64
}
STRING, ARRAY = 8, 9
MAX_KEYS = 100_000  # a header claiming more is damaged, not a model
MAX_STRING_BYTES = 64 * 1024 * 1024


class NotGguf(ValueError):
    """The file is not a readable GGUF model."""


@dataclass(frozen=True)
class GgufInfo:
    """What the platform needs to know about a model before loading it."""

    architecture: str
    name: str | None
    block_count: int
    context_length: int | None
    chat_template: str | None
    file_type: int | None  # llama.cpp's LLAMA_FTYPE_* (quantisation)
    metadata: dict[str, Any]


def _read(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise NotGguf("the file ends inside its header")
    return data


def _string(stream: IO[bytes]) -> str:
    (length,) = struct.unpack("<Q", _read(stream, 8))
    if length > MAX_STRING_BYTES:
        raise NotGguf("a header string is implausibly long")
    return _read(stream, length).decode("utf-8", errors="replace")


def _value(stream: IO[bytes], kind: int, keep: bool) -> Any:
    if kind in SCALARS:
        fmt, size = SCALARS[kind]
        return struct.unpack(fmt, _read(stream, size))[0]
    if kind == STRING:
        return _string(stream)
    if kind == ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(stream, 12))
        if item_kind in SCALARS and not keep:  # skip fixed-size arrays in one seek
            stream.seek(SCALARS[item_kind][1] * count, 1)
            return None
        items = [_value(stream, item_kind, keep) for _ in range(count)]
        return items if keep else None
    raise NotGguf(f"unknown value type {kind} in the header")


def read_metadata(path: Path, *, keep_arrays: bool = False) -> dict[str, Any]:
    """Return the header's key-value pairs; arrays (the vocabulary) are skipped unless asked."""
    with path.open("rb") as stream:
        if stream.read(4) != MAGIC:
            raise NotGguf(f"{path.name} is not a GGUF file (no GGUF magic at its start)")
        (version,) = struct.unpack("<I", _read(stream, 4))
        if version not in SUPPORTED_VERSIONS:
            raise NotGguf(f"{path.name} is GGUF version {version}; supported: 2 and 3")
        _tensors, keys = struct.unpack("<QQ", _read(stream, 16))
        if keys > MAX_KEYS:
            raise NotGguf(f"{path.name} has a damaged header ({keys} keys)")
        found: dict[str, Any] = {}
        for _ in range(keys):
            key = _string(stream)
            (kind,) = struct.unpack("<I", _read(stream, 4))
            value = _value(stream, kind, keep_arrays)
            if value is not None:
                found[key] = value
        return found


def read_info(path: Path) -> GgufInfo:
    """Read the header and pick out what the platform uses."""
    metadata = read_metadata(path)
    arch = str(metadata.get("general.architecture", "llama"))
    context = metadata.get(f"{arch}.context_length")
    template = metadata.get("tokenizer.chat_template")
    file_type = metadata.get("general.file_type")
    return GgufInfo(
        architecture=arch,
        name=metadata.get("general.name"),
        block_count=int(metadata.get(f"{arch}.block_count", 0)),
        context_length=int(context) if context is not None else None,
        chat_template=str(template) if template is not None else None,
        file_type=int(file_type) if file_type is not None else None,
        metadata=metadata,
    )


def load_failure(alias: str, path: Path, reason: object) -> InferenceError:
    """Return the error a model that cannot be loaded answers with, naming its file."""
    return InferenceError(f"cannot load model {alias!r} from {path}: {reason}")


def check_gguf(alias: str, path: Path) -> None:
    """Refuse at once a file that cannot be read or is not GGUF (InferenceError)."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(MAGIC))
    except OSError as exc:
        raise load_failure(alias, path, exc) from exc
    if magic != MAGIC:
        raise load_failure(alias, path, "not a GGUF file")
