"""Admin API and page for models: list them, add one from an uploaded GGUF, remove, default."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meatlizard.api.deps import AdminUser, DbDep, OptionalUser, SettingsDep, StorageDep
from meatlizard.core.errors import InvalidInput
from meatlizard.core.settings import Settings
from meatlizard.files import service as files
from meatlizard.files.models import READY, StoredFile
from meatlizard.inference import registry
from meatlizard.inference.catalog import model_rows
from meatlizard.inference.deps import InferenceDep
from meatlizard.inference.service import InferenceGateway
from meatlizard.web.render import render

router = APIRouter(prefix="/admin/models", tags=["admin"])
pages = APIRouter(include_in_schema=False)
# Web processes follow the registry of their data folder (inference/registry_watch.py).
SERVED_NOTE = (
    "served within seconds by the web processes that run the model; "
    "client-bots serve the models registered on their own machine"
)


class ModelRead(BaseModel):
    """A model the platform can serve."""

    name: str
    source: str
    file: str
    size: int | None
    quantisation: str | None
    context_length: int | None
    chat_template: bool | None
    loaded: bool
    default: bool
    problem: str | None


class ModelFromFile(BaseModel):
    """Register one of your uploaded files (a GGUF) as a model."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, examples=["qwen2.5-7b"])
    file_id: str = Field(min_length=1, max_length=64)


class Registered(BaseModel):
    """A model just registered, and when it is served."""

    name: str
    size: int
    sha256: str
    architecture: str
    context_length: int | None
    quantisation: str
    note: str


def _rows(settings: Settings, inference: InferenceGateway) -> list[ModelRead]:
    in_memory = inference.status().get("in_memory", [])
    assert isinstance(in_memory, list)
    return [ModelRead(**asdict(row)) for row in model_rows(settings, in_memory)]


@router.get("", response_model=list[ModelRead])
async def list_models(
    user: AdminUser, settings: SettingsDep, inference: InferenceDep
) -> list[ModelRead]:
    """List the models this web process serves, with size, quantisation and context length."""
    return _rows(settings, inference)


@router.post("", response_model=Registered, status_code=status.HTTP_201_CREATED)
async def add_model(
    body: ModelFromFile,
    user: AdminUser,
    db: DbDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Registered:
    """Register one of your uploaded GGUF files (upload it with tus first) as a model."""
    name = registry.check_name(body.name)
    item = await files.get_owned(db, file_id=body.file_id, owner=user)
    if item.status != READY:
        raise InvalidInput("the upload of that file has not finished")
    book = registry.Registry(settings.data_dir)
    registry.free_space_ok(book.folder, item.size)
    staged = book.staging(name)
    digest = await registry.stage_stream(await storage.open_stream(item.storage_key), staged)
    model = book.register(name, staged, digest)
    return Registered(
        name=model.name,
        size=model.size,
        sha256=model.sha256,
        architecture=model.architecture,
        context_length=model.context_length,
        quantisation=model.quantisation,
        note=SERVED_NOTE,
    )


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_model(name: str, user: AdminUser, settings: SettingsDep) -> Response:
    """Remove a registered model and its file (models from MODELS are the operator's)."""
    registry.Registry(settings.data_dir).remove(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{name}/default", status_code=status.HTTP_204_NO_CONTENT)
async def make_default(name: str, user: AdminUser, settings: SettingsDep) -> Response:
    """Make a registered model the default for new chats (DEFAULT_MODEL, if set, wins)."""
    registry.Registry(settings.data_dir).set_default(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@pages.get("/admin/models", response_class=HTMLResponse)
async def models_page(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    inference: InferenceDep,
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/admin/models", status_code=303)
    if not user.is_admin:
        return render(
            request,
            "not_found.html",
            user=user,
            status_code=403,
            message="The admin area is for admins only.",
        )
    uploads = await db.scalars(
        select(StoredFile)
        .where(StoredFile.owner_id == user.id, StoredFile.status == READY)
        .where(StoredFile.name.ilike("%.gguf"))
        .order_by(StoredFile.created_at.desc())
    )
    return render(
        request,
        "admin_models.html",
        user=user,
        section="admin",
        models=_rows(settings, inference),
        uploads=list(uploads),
        served_note=SERVED_NOTE,
    )
