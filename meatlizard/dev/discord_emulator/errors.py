"""Discord's JSON error bodies and the exception that carries them to a response."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# JSON error codes, as documented by Discord (opcodes-and-status-codes#json).
UNKNOWN_APPLICATION = 10002
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_INTERACTION = 10062
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION_COMMAND = 10063
UNAUTHORIZED = 40001
INTERACTION_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
CANNOT_DM_USER = 50007
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Return JSON with Discord's exact Content-Type (discord.py compares it verbatim)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class ApiError(Exception):
    """An error answered the way Discord answers it: a status and {"message", "code"}."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """Return the JSON body Discord sends for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def response(self) -> web.Response:
        """Return the error as an aiohttp response."""
        return json_response(self.body(), self.status)


def not_found(code: int, what: str) -> ApiError:
    """Return Discord's 404 for an unknown object, e.g. 'Unknown Channel'."""
    return ApiError(404, code, f"Unknown {what}")


def missing_access() -> ApiError:
    """Return the 403 for a channel the caller cannot see."""
    return ApiError(403, MISSING_ACCESS, "Missing Access")


def missing_permissions() -> ApiError:
    """Return the 403 for an action the caller's permissions do not allow."""
    return ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")


def unauthorized() -> ApiError:
    """Return the 401 for a missing or wrong token."""
    return ApiError(401, 0, "401: Unauthorized")


def invalid_form(field: str, code: str, message: str) -> ApiError:
    """Return a 50035 Invalid Form Body naming one field, in Discord's nested error format."""
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)
