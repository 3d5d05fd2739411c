"""The Report form shown under pastes, links and files: plain HTML, works without JavaScript."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from meatlizard.admin import moderation
from meatlizard.admin.deps import ContentKindsDep
from meatlizard.api.deps import DbDep, FormUser
from meatlizard.api.errors import status_for
from meatlizard.core.errors import ServiceError
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
REASON_MIN, REASON_MAX = 3, 2000  # characters, as the JSON API


def _safe_back(back: str) -> str:
    """Return a same-site path to go back to (never another site)."""
    return back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/"


@router.post("/report", response_class=HTMLResponse)
async def report_form(
    request: Request,
    user: FormUser,
    db: DbDep,
    kinds: ContentKindsDep,
    content_type: Annotated[str, Form(max_length=16)] = "",
    content_id: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX * 2)] = "",
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    back = _safe_back(back)

    def answer(status_code: int, message: str) -> Response:
        return render(
            request,
            "report_sent.html",
            user=user,
            status_code=status_code,
            ok=status_code == 201,
            message=message,
            back=back,
            login=f"/login?next={quote(back)}",
        )

    if user is None:
        return answer(401, "Reports need an account, so the admins can follow up. Log in first.")
    if not REASON_MIN <= len(reason.strip()) <= REASON_MAX:
        return answer(422, f"Say what is wrong in {REASON_MIN} to {REASON_MAX} characters.")
    try:
        await moderation.report(
            db,
            kinds,
            reporter=user,
            content_type=content_type,
            content_id=content_id,
            reason=reason,
        )
    except ServiceError as exc:
        return answer(status_for(exc), str(exc))
    return answer(201, "Thank you. The admins will look at it.")
