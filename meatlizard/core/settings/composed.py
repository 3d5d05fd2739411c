"""The one Settings object: every group, and the checks that span groups."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import PrivateAttr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from meatlizard.core.settings.accounts import AccountSettings
from meatlizard.core.settings.backups import BackupSettings
from meatlizard.core.settings.chat import ChatSettings
from meatlizard.core.settings.discord import DiscordSettings
from meatlizard.core.settings.files import FileSettings
from meatlizard.core.settings.inference import BUNDLED_ALIAS, InferenceSettings, served_models
from meatlizard.core.settings.links import LinkSettings
from meatlizard.core.settings.pastes import PasteSettings
from meatlizard.core.settings.security import SecuritySettings
from meatlizard.core.settings.sources import settings_sources
from meatlizard.core.settings.storage import StorageSettings
from meatlizard.core.settings.videos import VideoSettings
from meatlizard.core.settings.web import WebSettings


# Pydantic lists fields from the last base to the first, so the groups read bottom-up here.
class Settings(
    WebSettings,
    BackupSettings,
    VideoSettings,
    FileSettings,
    LinkSettings,
    PasteSettings,
    AccountSettings,
    ChatSettings,
    InferenceSettings,
    DiscordSettings,
    SecuritySettings,
    StorageSettings,
    BaseSettings,
):
    """Every setting of every process; environment variables use the upper-case field name."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)
    # DEFAULT_MODEL as the operator set it (None: the registry's default, else the bundled).
    _chosen_default: str | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return settings_sources(settings_cls, init_settings, env_settings)

    @model_validator(mode="after")
    def _check_cross_fields(self) -> Settings:
        problem = (
            self._storage_problem()
            or self._backup_target_problem(self.s3_bucket_name, self.s3_endpoint_url, self.data_dir)
            or self._remote_inference_problem()
            or self._payload_keys_problem()
            or self._oauth_problem()
            or self._model_window_problem()
            or self._model_engine_problem()
        )
        if problem:
            raise ValueError(problem)
        if "default_model" in self.model_fields_set:
            self._chosen_default = self.default_model
        paths, self.default_model = self.current_models()
        if self.models and self.default_model not in paths:
            raise ValueError(
                f"DEFAULT_MODEL {self.default_model!r} is not one of MODELS "
                f"({', '.join(sorted(self.models))}) nor a registered model"
            )
        return self

    def current_models(self) -> tuple[dict[str, Path], str]:
        """Return the models to serve and the default alias, as the registry says now."""
        return served_models(self.data_dir, self.models, self._chosen_default, BUNDLED_ALIAS)

    def _remote_inference_problem(self) -> str | None:
        if self.inference == "remote" and not (self.redis_url and self.payload_encryption_key):
            return (
                "INFERENCE=remote needs REDIS_URL and PAYLOAD_ENCRYPTION_KEY "
                "(run `meatlizard keygen`)"
            )
        return None

    @cached_property
    def model_paths(self) -> dict[str, Path]:
        """Return alias -> GGUF path at start: MODELS (or the bundled SmolLM2) and registered."""
        return self.current_models()[0]
