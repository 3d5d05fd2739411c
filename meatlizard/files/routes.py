"""Files API: one-shot uploads (PUT, form), list, metadata, options, delete, quotas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import PlainTextResponse, Response

from meatlizard.api.deps import AdminUser, CurrentUser, DbDep, RowId, StorageDep
from meatlizard.files import folders, options, quotas, service
from meatlizard.files.bodies import whole_body
from meatlizard.files.deps import FilePolicyDep
from meatlizard.files.models import StoredFile
from meatlizard.files.policy import FilePolicy
from meatlizard.files.schemas import FileRead, FileUpdate, QuotaRead, QuotaSet

router = APIRouter(prefix="/files", tags=["files"])
FORM_CHUNK = 1024 * 1024
FolderQuery = Annotated[
    str | None,
    Query(
        max_length=255,
        description="Only this folder and its subfolders (`work` takes `work/2024`, not "
        "`workshop`); empty: only files outside any folder.",
    ),
]


def file_read(request: Request, item: StoredFile) -> FileRead:
    """Describe a file with its absolute URLs."""
    base = str(request.base_url).rstrip("/")
    read = FileRead.model_validate(item)
    read.has_password = item.password_hash is not None
    read.url = f"{base}/f/{item.id}"
    read.raw_url = f"{base}/f/{item.id}/raw"
    return read


def _created(request: Request, item: StoredFile) -> Response:
    read = file_read(request, item)
    if request.headers.get("user-agent", "").startswith("curl/"):
        return PlainTextResponse(read.url + "\n", status_code=status.HTTP_201_CREATED)
    return Response(read.model_dump_json(), status_code=201, media_type="application/json")


@router.get("", response_model=list[FileRead])
async def list_files(
    request: Request, user: CurrentUser, db: DbDep, folder: FolderQuery = None
) -> list[FileRead]:
    """List your files (finished and unfinished uploads), newest first."""
    items = await folders.list_files(db, owner=user, folder=folder)
    return [file_read(request, item) for item in items]


@router.post("", status_code=201, response_model=FileRead)
async def upload_form(
    request: Request,
    file: UploadFile,
    user: CurrentUser,
    db: DbDep,
    storage: StorageDep,
    policy: FilePolicyDep,
) -> Response:
    """Upload a small file as multipart form field `file` (ShareX, HTML forms)."""

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(FORM_CHUNK):
            yield chunk

    item = await service.store_stream(
        db,
        storage,
        owner=user,
        name=file.filename or "file",
        chunks=chunks(),
        policy=policy,
        declared_type=file.content_type or "",
        length=file.size,
    )
    return _created(request, item)


@router.get("/quota", response_model=QuotaRead)
async def my_quota(user: CurrentUser, db: DbDep, policy: FilePolicyDep) -> QuotaRead:
    """Return how much you store and may store."""
    return await _quota_read(db, user.id, policy)


@router.put("/quotas/{user_id}", response_model=QuotaRead)
async def set_quota(
    user_id: RowId, body: QuotaSet, admin: AdminUser, db: DbDep, policy: FilePolicyDep
) -> QuotaRead:
    """Set a user's storage quota (admins, audited); null returns them to the default."""
    await quotas.set_quota(db, actor=admin, user_id=user_id, quota_bytes=body.quota_bytes)
    return await _quota_read(db, user_id, policy)


async def _quota_read(db: DbDep, user_id: int, policy: FilePolicy) -> QuotaRead:
    found = await quotas.usage(db, user_id, policy)
    return QuotaRead(
        user_id=user_id,
        used_bytes=found.used_bytes,
        quota_bytes=found.quota_bytes,
        custom=found.custom,
    )


@router.put("/{name}", status_code=201, response_model=FileRead)
async def upload_raw(
    name: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    storage: StorageDep,
    policy: FilePolicyDep,
    content_length: Annotated[int | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Upload the raw body as a file named `name` (`curl -T file URL/`)."""
    if content_length is None and "chunked" not in request.headers.get("transfer-encoding", ""):
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "send Content-Length or chunks")
    item = await service.store_stream(
        db,
        storage,
        owner=user,
        name=name,
        chunks=whole_body(request, content_length),
        policy=policy,
        declared_type=request.headers.get("content-type", ""),
        length=content_length,
    )
    return _created(request, item)


@router.get("/{file_id}", response_model=FileRead)
async def get_file(file_id: str, request: Request, user: CurrentUser, db: DbDep) -> FileRead:
    """Return one of your files' metadata."""
    return file_read(request, await service.get_owned(db, file_id=file_id, owner=user))


@router.patch("/{file_id}", response_model=FileRead)
async def update_file(
    file_id: str, body: FileUpdate, request: Request, user: CurrentUser, db: DbDep
) -> FileRead:
    """Rename, move to a folder, or change expiry, download limit, password or visibility."""
    item = await service.get_owned(db, file_id=file_id, owner=user)
    return file_read(request, await options.update_file(db, item=item, data=body))


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(file_id: str, user: CurrentUser, db: DbDep, storage: StorageDep) -> None:
    """Delete a file and its stored object."""
    item = await service.get_owned(db, file_id=file_id, owner=user)
    await service.delete_file(db, storage, item=item)
