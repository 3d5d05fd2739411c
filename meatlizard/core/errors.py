"""Domain errors raised by services; the web layer maps each kind to an HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected, user-facing failure; the message is shown as is."""


class InvalidInput(ServiceError):
    """The request is well-formed but its values are not acceptable."""


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not know it exists."""


class Conflict(ServiceError):
    """The request clashes with existing state (e.g. a taken username)."""


class Forbidden(ServiceError):
    """The caller is known but not allowed to do this."""


class Unauthenticated(ServiceError):
    """No valid credentials were presented."""


class Refused(ServiceError):
    """A guard refused the request (moderation, requests disabled)."""


class TooManyRequests(ServiceError):
    """A rate limit was hit; retry after the given number of seconds."""

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(ServiceError):
    """A dependency the request needs is down."""


class TooLarge(ServiceError):
    """The request would exceed a size limit or a storage quota."""


class Gone(ServiceError):
    """The thing existed but is no longer available (expired, used up)."""
