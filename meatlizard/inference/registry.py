"""Models an operator brings: GGUF files kept in DATA_DIR/models with a small JSON registry.

`meatlizard models add NAME PATH_OR_URL` copies or downloads the file (an interrupted download
resumes with an HTTP Range request), checks its sha256 when given and its GGUF header always,
and records what the header says. The web process and the client-bot serve every registered
model next to those named in MODELS.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from meatlizard.core.errors import InvalidInput, NotFound
from meatlizard.core.settings import MODEL_REGISTRY
from meatlizard.inference.gguf import NotGguf, read_info

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
COPY_CHUNK = 1024 * 1024
# llama.cpp's LLAMA_FTYPE_* numbers (general.file_type) as the names people use.
QUANTISATIONS = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}  # fmt: skip

Progress = Callable[[int, int | None], None]  # bytes so far, total if known


@dataclass(frozen=True)
class RegisteredModel:
    """One model in the registry, as its GGUF header describes it."""

    name: str
    file: str  # inside the models folder
    size: int
    sha256: str
    architecture: str
    context_length: int | None
    quantisation: str
    has_chat_template: bool
    added_at: str


def check_name(name: str) -> str:
    """Refuse names that would not make a safe alias and file name."""
    if not NAME.fullmatch(name):
        raise InvalidInput(
            f"model name {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


class Registry:
    """The registry file of one data folder (read fresh on each call: it is small)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MODEL_REGISTRY
        self.folder = self.path.parent

    def _load(self) -> dict[str, object]:
        if not self.path.is_file():
            return {"default": None, "models": {}}
        data: dict[str, object] = json.loads(self.path.read_text())
        return data

    def _save(self, data: dict[str, object]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(temporary, self.path)  # readers never see half a file

    def models(self) -> list[RegisteredModel]:
        entries = self._load()["models"]
        assert isinstance(entries, dict)
        return [RegisteredModel(**entry) for entry in entries.values()]

    def default(self) -> str | None:
        value = self._load().get("default")
        return str(value) if value else None

    def paths(self) -> dict[str, Path]:
        """alias -> GGUF path of every registered model."""
        return {m.name: self.folder / m.file for m in self.models()}

    def get(self, name: str) -> RegisteredModel:
        for model in self.models():
            if model.name == name:
                return model
        raise NotFound(f"no model named {name!r}; `meatlizard models list` shows them")

    def register(self, name: str, staged: Path, sha256: str) -> RegisteredModel:
        """Move a verified file into place and record it."""
        try:
            info = read_info(staged)
        except NotGguf as exc:
            staged.unlink(missing_ok=True)
            raise InvalidInput(f"{name}: {exc}") from exc
        if info.block_count <= 0:
            staged.unlink(missing_ok=True)
            raise InvalidInput(f"{name}: the GGUF header names no layers; not a usable model")
        target = self.folder / f"{name}.gguf"
        os.replace(staged, target)
        model = RegisteredModel(
            name=name,
            file=target.name,
            size=target.stat().st_size,
            sha256=sha256,
            architecture=info.architecture,
            context_length=info.context_length,
            quantisation=QUANTISATIONS.get(info.file_type or -1, f"type {info.file_type}"),
            has_chat_template=info.chat_template is not None,
            added_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        data = self._load()
        entries = data["models"]
        assert isinstance(entries, dict)
        entries[name] = asdict(model)
        self._save(data)
        return model

    def remove(self, name: str) -> None:
        model = self.get(name)
        data = self._load()
        entries = data["models"]
        assert isinstance(entries, dict)
        del entries[name]
        if data.get("default") == name:
            data["default"] = None
        self._save(data)
        (self.folder / model.file).unlink(missing_ok=True)

    def set_default(self, name: str) -> None:
        self.get(name)
        data = self._load()
        data["default"] = name
        self._save(data)

    def staging(self, name: str) -> Path:
        """Where a copy or download is written before it is verified (kept to resume)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{name}.gguf.part"


def copy_with_progress(source: Path, target: Path, progress: Progress) -> str:
    """Copy a local file; return its sha256."""
    if not source.is_file():
        raise InvalidInput(f"{source}: no such file")
    digest = hashlib.sha256()
    total, done = source.stat().st_size, 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            writer.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            progress(done, total)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(expected: str | None, actual: str, staged: Path) -> None:
    """Refuse (and delete) a file whose checksum differs from the one given."""
    if expected is not None and expected.lower() != actual:
        staged.unlink(missing_ok=True)
        raise InvalidInput(f"sha256 mismatch: expected {expected.lower()}, got {actual}")


def free_space_ok(folder: Path, needed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise InvalidInput(f"not enough disk space in {folder}: {needed} bytes needed, {free} free")


def download(url: str, target: Path, progress: Progress, timeout: float = 60.0) -> None:
    """Download `url` into `target`, resuming from what `target` already holds."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"{url}: only http:// and https:// addresses can be downloaded")
    start = target.stat().st_size if target.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # http(s) only, checked above
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the part already holds the whole file
            return
        raise InvalidInput(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InvalidInput(f"{url}: cannot download: {exc}") from exc
    with response:
        resumed = response.status == 206 and _range_start(response.headers) == start
        length = response.headers.get("Content-Length")
        total = int(length) + (start if resumed else 0) if length else None
        done = start if resumed else 0
        with target.open("ab" if resumed else "wb") as writer:
            try:
                while chunk := response.read(COPY_CHUNK):
                    if done == 0 and not chunk.startswith(b"GGUF"):
                        writer.close()
                        target.unlink(missing_ok=True)
                        kind = response.headers.get("Content-Type", "unknown type")
                        raise InvalidInput(f"{url} is not a GGUF file (it serves {kind})")
                    writer.write(chunk)
                    done += len(chunk)
                    progress(done, total)
            except (OSError, http.client.HTTPException):
                pass  # a dropped connection: what arrived is kept for the next run
    if total is not None and done != total:
        raise InvalidInput(
            f"{url}: the download stopped at {done} of {total} bytes; run the same command"
            " again to resume"
        )


def _range_start(headers: object) -> int | None:
    """The first byte of a `Content-Range: bytes a-b/n` header."""
    value = getattr(headers, "get", lambda _: None)("Content-Range")
    match = re.match(r"bytes (\d+)-", value or "")
    return int(match.group(1)) if match else None


async def stage_stream(chunks: AsyncIterator[bytes], target: Path) -> str:
    """Write an object's chunks to the staging file; return their sha256."""
    digest = hashlib.sha256()
    with target.open("wb") as writer:
        async for chunk in chunks:
            writer.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()
