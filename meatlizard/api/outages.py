"""HTTP answers while the database is down: 503 with a message, not a bare 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from meatlizard.core.outages import DATABASE_DOWN, is_db_outage


async def database_down_handler(request: Request, exc: Exception) -> JSONResponse:
    """Answer 503 when the database cannot be reached; any other error stays a 500."""
    if not is_db_outage(exc):
        raise exc
    return JSONResponse({"detail": DATABASE_DOWN}, status_code=503, headers={"Retry-After": "5"})


def add_outage_handlers(app: FastAPI) -> None:
    """Register the handlers for a database that cannot be reached."""
    app.add_exception_handler(DBAPIError, database_down_handler)
    app.add_exception_handler(OSError, database_down_handler)
