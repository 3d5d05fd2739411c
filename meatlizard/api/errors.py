"""How errors map to HTTP: domain errors to statuses, and the one error shape every answer uses.

Every error is `{"detail": "<readable message>"}`; invalid fields add
`"errors": [{"loc": [...], "msg": ..., "type": ...}]`, one entry per field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from meatlizard.core import errors

STATUS_BY_ERROR: list[tuple[type[errors.ServiceError], int]] = [
    (errors.InvalidInput, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Forbidden, 403),
    (errors.Unauthenticated, 401),
    (errors.Refused, 403),
    (errors.TooManyRequests, 429),
    (errors.Unavailable, 503),
    (errors.TooLarge, 413),
    (errors.Gone, 410),
]


class FieldProblem(BaseModel):
    """What is wrong with one field: where (`["body", "title"]`), why, and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer: a readable message, and for invalid fields which ones and why."""

    detail: str
    errors: list[FieldProblem] | None = None


def status_for(exc: errors.ServiceError) -> int:
    """Return the HTTP status of a domain error."""
    return next((c for cls, c in STATUS_BY_ERROR if isinstance(exc, cls)), 400)


def field_problems(raw: Iterable[Mapping[str, Any]], prefix: str = "") -> list[dict[str, Any]]:
    """Keep where, why and kind of each validation error; never the input (it may be bytes)."""
    problems = []
    for error in raw:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        problems.append(
            {
                "loc": [prefix, *loc] if prefix else loc,
                "msg": str(error.get("msg", "invalid value")),
                "type": str(error.get("type", "value_error")),
            }
        )
    return problems


def summary(problems: list[dict[str, Any]]) -> str:
    """Return one readable line naming each bad field and why."""
    parts = []
    for problem in problems:
        where = ".".join(str(p) for p in problem["loc"][1:]) or ".".join(map(str, problem["loc"]))
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts) or "invalid request"


def error_content(detail: Any) -> dict[str, Any]:
    """Return the error body for a message, or for a list of validation errors."""
    if isinstance(detail, str):
        return {"detail": detail}
    if isinstance(detail, list) and all(isinstance(item, Mapping) for item in detail):
        problems = field_problems(detail)
        return {"detail": summary(problems), "errors": problems}
    return {"detail": str(detail)}
