"""My stuff: your pastes, links, files and videos in one place (admins may see everyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meatlizard.api.deps import DbDep, OptionalUser, SettingsDep
from meatlizard.auth import service as auth_service
from meatlizard.files import quotas, thumbnails
from meatlizard.files import service as files_service
from meatlizard.files.deps import FilePolicyDep
from meatlizard.links import service as links_service
from meatlizard.links.urls import link_read, public_base
from meatlizard.pastes import service as pastes_service
from meatlizard.videos import service as videos_service
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/mine", response_class=HTMLResponse)
async def mine(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    file_policy: FilePolicyDep,
    everyone: bool = False,
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/mine", status_code=303)
    everyone = everyone and user.is_admin  # an admin sees their own things unless they ask
    pastes = await pastes_service.pastes_for_my_stuff(db, user=user, everyone=everyone)
    links = await links_service.list_links(db, owner=user, everyone=everyone)
    files = await files_service.files_for_my_stuff(db, user=user, everyone=everyone)
    videos = await videos_service.videos_for_my_stuff(db, user=user, everyone=everyone)
    ids = {p.owner_id for p in pastes} | {link.owner_id for link in links}
    ids |= {f.owner_id for f in files} | {v.owner_id for v in videos}
    owners = await auth_service.usernames(db, {i for i in ids if i is not None})
    base = public_base(settings, request)
    return render(
        request,
        "mine.html",
        user=user,
        section="mine",
        pastes=pastes,
        links=[link_read(base, link, owner=owners.get(link.owner_id or 0)) for link in links],
        files=files,
        looks=thumbnails.looks(files, viewer_id=user.id),
        videos=videos,
        usage=await quotas.usage(db, user.id, file_policy),
        owners=owners,
        everyone=everyone,
    )
