"""One settings object for every process, declared in one module per group of settings."""

from meatlizard.core.settings.composed import Settings
from meatlizard.core.settings.inference import (
    BUNDLED_ALIAS,
    MIN_MODEL_WINDOW,
    MODEL_REGISTRY,
    bundled_model_path,
    find_llama_server,
    registered_models,
)
from meatlizard.core.settings.loading import (
    describe_validation_error,
    discord_problem,
    load_settings,
)
from meatlizard.core.settings.rates import RATE_RE, RATE_WINDOW_SECONDS, Rate
from meatlizard.core.settings.security import HEX_KEY_RE
from meatlizard.core.settings.sources import CONFIG_FILE_ENV, SettingsError

__all__ = [
    "BUNDLED_ALIAS",
    "CONFIG_FILE_ENV",
    "HEX_KEY_RE",
    "MIN_MODEL_WINDOW",
    "MODEL_REGISTRY",
    "RATE_RE",
    "RATE_WINDOW_SECONDS",
    "Rate",
    "Settings",
    "SettingsError",
    "bundled_model_path",
    "describe_validation_error",
    "discord_problem",
    "find_llama_server",
    "load_settings",
    "registered_models",
]
