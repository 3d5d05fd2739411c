"""My stuff: your pastes, links, files and videos in one place (admins may see everyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from meatlizard.api.deps import DbDep, OptionalUser, ServicesDep
from meatlizard.auth.models import User
from meatlizard.files import quotas
from meatlizard.files.models import StoredFile
from meatlizard.links import service as links_service
from meatlizard.links.routes import link_read, public_base
from meatlizard.pastes.models import Paste
from meatlizard.videos.models import Video
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/mine", response_class=HTMLResponse)
async def mine(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    services: ServicesDep,
    everyone: bool = False,
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/mine", status_code=303)
    everyone = everyone and user.is_admin  # an admin sees their own things unless they ask
    query = select(Paste).order_by(Paste.created_at.desc())
    if not everyone:
        query = query.where(Paste.owner_id == user.id)
    pastes = list(await db.scalars(query))
    links = await links_service.list_links(db, owner=user, everyone=everyone)
    files_query = select(StoredFile).order_by(StoredFile.created_at.desc())
    if not everyone:
        files_query = files_query.where(StoredFile.owner_id == user.id)
    files = list(await db.scalars(files_query))
    videos_query = select(Video).order_by(Video.created_at.desc())
    if not everyone:
        videos_query = videos_query.where(Video.owner_id == user.id)
    videos = list(await db.scalars(videos_query))
    ids = {p.owner_id for p in pastes} | {link.owner_id for link in links}
    ids |= {f.owner_id for f in files} | {v.owner_id for v in videos}
    owners = {u.id: u.username for u in await db.scalars(select(User).where(User.id.in_(ids)))}
    base = public_base(services, request)
    return render(
        request,
        "mine.html",
        user=user,
        section="mine",
        pastes=pastes,
        links=[link_read(base, link, owner=owners.get(link.owner_id or 0)) for link in links],
        files=files,
        videos=videos,
        usage=await quotas.usage(db, user.id, services.file_policy),
        owners=owners,
        everyone=everyone,
    )
