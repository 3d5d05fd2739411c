"""Every model this process can serve, as the admin page and API describe it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from meatlizard.core.settings import Settings, bundled_model_path
from meatlizard.inference.gguf import GgufInfo, NotGguf, read_info
from meatlizard.inference.registry import QUANTISATIONS


@dataclass(frozen=True)
class ModelRow:
    """One model: where it comes from, what its header says, whether it is in memory."""

    name: str
    source: str  # "registered" (models add), "MODELS" (setting) or "bundled" (SmolLM2)
    file: str
    size: int | None
    quantisation: str | None
    context_length: int | None
    chat_template: bool | None
    loaded: bool
    default: bool
    problem: str | None = None


@lru_cache(maxsize=64)
def _header(path: Path, mtime_ns: int) -> GgufInfo:
    del mtime_ns  # part of the cache key: a replaced file is read again
    return read_info(path)


def describe(path: Path) -> tuple[GgufInfo | None, int | None, str | None]:
    """Header, size and problem of a model file (cached per file version)."""
    try:
        stat = path.stat()
        return _header(path, stat.st_mtime_ns), stat.st_size, None
    except (OSError, NotGguf) as exc:
        return None, None, str(exc)


def model_rows(settings: Settings, in_memory: list[str]) -> list[ModelRow]:
    """List the models these settings serve now, with what their files say."""
    bundled = bundled_model_path()
    paths, default = settings.current_models()  # models added since the start are served too
    rows = []
    for name, path in sorted(paths.items()):
        # Registered copies live in DATA_DIR/models, never at the bundled file's path.
        source = (
            "MODELS" if name in settings.models else "bundled" if path == bundled else "registered"
        )
        info, size, problem = describe(path)
        rows.append(
            ModelRow(
                name=name,
                source=source,
                file=path.name,
                size=size,
                quantisation=QUANTISATIONS.get(info.file_type or -1) if info else None,
                context_length=info.context_length if info else None,
                chat_template=(info.chat_template is not None) if info else None,
                loaded=name in in_memory,
                default=name == default,
                problem=problem,
            )
        )
    return rows
