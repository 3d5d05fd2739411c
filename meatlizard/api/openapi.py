"""The OpenAPI document, made true: one error shape, and the errors each operation can answer.

FastAPI documents the success and a 422 of its own shape; this adds, from what each route
depends on, the statuses it really answers (401 without a valid login, 403 for members on
admin routes and for cookie writes without the CSRF token, 404 for a path id that names
nothing, 413 for bodies past their limit) plus the ones a few routes add on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from meatlizard.api import deps
from meatlizard.api.errors import ErrorOut, FieldProblem

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
REASONS = {
    400: "The request is malformed",
    401: "No valid login (session cookie or bearer token)",
    403: "Not allowed: an admin route, a missing CSRF token, or a refused request",
    404: "Nothing there, or nothing the caller may know of",
    409: "The request clashes with the current state",
    410: "It existed but is gone (expired, used up)",
    411: "Send Content-Length or a chunked body",
    412: "Wrong Tus-Resumable version",
    413: "The body or the upload is larger than its limit",
    415: "Wrong Content-Type for this operation",
    422: "Invalid fields or an invalid JSON body; `errors` names each field",
    423: "Another request is writing this upload right now",
    429: "Too many requests; see Retry-After",
    460: "Checksum mismatch",
    502: "The model failed while answering",
    503: "A service it needs is down",
}
# Statuses some routes answer from their own checks (domain errors, tus, rate limits).
TUS = "/api/v1/files/tus"
OWN_STATUSES: dict[tuple[str, str], set[int]] = {
    ("POST", "/api/v1/auth/login"): {401, 429},
    ("POST", "/api/v1/pastes"): {429},
    ("POST", "/api/v1/links"): {409, 429},
    ("GET", "/api/v1/links"): {403},  # ?all=true is for admins
    ("POST", TUS): {400, 412, 415},
    ("HEAD", TUS + "/{file_id}"): {410, 412},
    ("PATCH", TUS + "/{file_id}"): {400, 409, 410, 412, 415, 423, 460},
    ("DELETE", TUS + "/{file_id}"): {412, 423},
    ("PUT", "/api/v1/files/{name}"): {400, 411},
    ("POST", "/api/v1/videos"): {404, 409},
    ("POST", "/api/v1/admin/models"): {404},  # the uploaded file is not the admin's
    ("PATCH", "/api/v1/admin/users/{user_id}"): {409},  # the last active admin
    ("DELETE", "/api/v1/auth/me"): {409},  # the only admin
    ("POST", "/v1/chat/completions"): {400, 403, 404, 429, 502, 503},
}
# Operations that answer files rather than JSON: status -> media types.
DOWNLOADS: dict[tuple[str, str], list[str]] = {
    ("GET", "/api/v1/auth/me/export"): ["application/zip"],
    ("GET", "/api/v1/chat/sessions/{session_id}/export"): ["text/markdown", "application/json"],
    ("GET", "/api/v1/chat/sessions/{session_id}/transcript"): ["application/json", "text/csv"],
}
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


def _statuses(route: Any, method: str) -> set[int]:
    calls = _calls(route.dependant)
    codes = set(OWN_STATUSES.get((method, route.path_format), set()))
    if deps.current_user in calls or deps.admin_user in calls or deps.optional_user in calls:
        codes.add(401)  # a wrong or expired bearer token is a 401 even where login is optional
        if method in BODY_METHODS:
            codes.add(403)  # a cookie-authenticated write without its CSRF token
    if deps.admin_user in calls:
        codes.add(403)
    if route.dependant.path_params:
        codes.add(404)
    if method in BODY_METHODS:
        codes |= {413, 422}
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        codes.add(422)
    return codes


def document_errors(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Give every operation its error statuses, all in the ErrorOut shape."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["FieldProblem"] = FieldProblem.model_json_schema()
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    error.pop("$defs", None)
    schemas["ErrorOut"] = error
    # Included routers appear as route contexts whose original route is the APIRoute.
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # it answers for the APIRoute: path_format, dependant, methods
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            calls = _calls(route.dependant)
            if deps.optional_user in calls and deps.current_user not in calls:
                # Works without an account too: an empty requirement means "no credentials".
                operation["security"] = [{}, *operation.get("security", [])]
            responses = operation.setdefault("responses", {})
            for ok in ("200", "201"):
                kinds = DOWNLOADS.get((method, route.path_format))
                if kinds and ok in responses:
                    schema = {"type": "string", "format": "binary"}
                    responses[ok]["content"] = {kind: {"schema": schema} for kind in kinds}
            for code in sorted(_statuses(route, method)):
                entry = responses.setdefault(str(code), {"description": REASONS.get(code, "")})
                entry["content"] = {"application/json": {"schema": ERROR_REF}}
    return document


def install(app: FastAPI) -> None:
    """Serve the corrected document at /openapi.json (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document_errors(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
