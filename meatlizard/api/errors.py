"""How domain errors map to HTTP statuses."""

from __future__ import annotations

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


def status_for(exc: errors.ServiceError) -> int:
    """Return the HTTP status of a domain error."""
    return next((c for cls, c in STATUS_BY_ERROR if isinstance(exc, cls)), 400)
