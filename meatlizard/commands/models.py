"""`meatlizard models ...`: add, list, remove and choose the default of operator-brought GGUFs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from meatlizard.inference.registry import Registry

from meatlizard.core.errors import ServiceError
from meatlizard.core.settings import SettingsError, load_settings

models = typer.Typer(help="Models an operator brings (GGUF files in DATA_DIR/models).")


def _registry() -> Registry:
    from meatlizard.inference.registry import Registry

    try:
        return Registry(load_settings().data_dir)
    except SettingsError as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(2) from None


def _fail(exc: ServiceError) -> typer.Exit:
    typer.echo(f"meatlizard: {exc}", err=True)
    return typer.Exit(2)


@models.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The alias chats and /v1/models will use.")],
    source: Annotated[str, typer.Argument(help="A GGUF file's path or an http(s) URL.")],
    sha256: Annotated[
        str | None, typer.Option(help="Refuse the file unless its SHA-256 matches.")
    ] = None,
) -> None:
    """Copy or download a GGUF model (resumable), verify it and register it."""
    from meatlizard.inference import registry as models_registry

    registry = _registry()
    try:
        models_registry.check_name(name)
        staged = registry.staging(name)
        with typer.progressbar(length=1, label=f"{name}", show_pos=True) as bar:

            def progress(done: int, total: int | None) -> None:
                bar.length = total or max(done, 1)
                bar.update(done - bar.pos)

            if source.startswith(("http://", "https://")):
                models_registry.download(source, staged, progress)
                digest = models_registry.file_sha256(staged)
            else:
                path = Path(source).expanduser()
                models_registry.free_space_ok(
                    registry.folder, path.stat().st_size if path.is_file() else 0
                )
                digest = models_registry.copy_with_progress(path, staged, progress)
        models_registry.check_sha256(sha256, digest, staged)
        model = registry.register(name, staged, digest)
    except ServiceError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"added {model.name}: {model.architecture}, {model.quantisation}, context"
        f" {model.context_length or 'unknown'}, {model.size / 2**20:.1f} MiB, sha256 {model.sha256}"
    )


@models.command("list")
def list_models() -> None:
    """List the registered models (the default is marked with *)."""
    registry = _registry()
    found = registry.models()
    if not found:
        typer.echo("no models registered; add one with `meatlizard models add NAME PATH_OR_URL`")
        return
    default = registry.default()
    for model in sorted(found, key=lambda m: m.name):
        mark = "*" if model.name == default else " "
        typer.echo(
            f"{mark} {model.name:<24} {model.quantisation:<8} ctx {model.context_length or '?':<7}"
            f" {model.size / 2**20:>9.1f} MiB  {model.architecture}"
        )


@models.command("remove")
def remove(name: Annotated[str, typer.Argument(help="A registered model's name.")]) -> None:
    """Remove a model and delete its file."""
    try:
        _registry().remove(name)
    except ServiceError as exc:
        raise _fail(exc) from None
    typer.echo(f"removed {name}")


@models.command("default")
def default(name: Annotated[str, typer.Argument(help="A registered model's name.")]) -> None:
    """Make a registered model the default for new chats (unless DEFAULT_MODEL is set)."""
    try:
        _registry().set_default(name)
    except ServiceError as exc:
        raise _fail(exc) from None
    typer.echo(f"{name} is now the default model")
