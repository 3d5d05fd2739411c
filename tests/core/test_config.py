"""Settings: embedded defaults, validation with one clear line per bad setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meatlizard.core.settings import Settings, SettingsError, load_settings


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.redis_url is None
    assert settings.s3_bucket_name is None
    assert (
        settings.effective_database_url
        == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'meatlizard.db'}"
    )
    assert settings.model_paths["smollm2"].name.endswith(".gguf")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DATABASE_URL": "mysql://x"},
            "setting DATABASE_URL: must start with sqlite+aiosqlite://",
        ),
        ({"REDIS_URL": "http://x"}, "setting REDIS_URL: must start with redis://"),
        (
            {"PAYLOAD_ENCRYPTION_KEY": "abc"},
            "setting PAYLOAD_ENCRYPTION_KEY: must be 64 hexadecimal",
        ),
        (
            {"PAYLOAD_ENCRYPTION_KEY": "g" * 64},
            "setting PAYLOAD_ENCRYPTION_KEY: must be 64 hexadecimal",
        ),
        (
            {"PAYLOAD_PREVIOUS_KEYS": "abc"},
            "setting PAYLOAD_PREVIOUS_KEYS: must be comma-separated keys of 64 hexadecimal",
        ),
        (
            {"PAYLOAD_PREVIOUS_KEYS": "ab" * 32},
            "PAYLOAD_PREVIOUS_KEYS needs PAYLOAD_PREVIOUS_KEYS_UNTIL",
        ),
        (
            {"PAYLOAD_PREVIOUS_KEYS_UNTIL": "soon"},
            "setting PAYLOAD_PREVIOUS_KEYS_UNTIL: Input should be a valid datetime",
        ),
        (
            {"PAYLOAD_MAX_AGE_SECONDS": "5"},
            "setting PAYLOAD_MAX_AGE_SECONDS: Input should be greater than or equal to 10",
        ),
        ({"SECRET_KEY": "short"}, "setting SECRET_KEY: must be at least 32 characters"),
        ({"CHAT_RATE_LIMIT": "lots"}, "setting CHAT_RATE_LIMIT: 'lots' is not a rate"),
        (
            {"MODEL_N_CTX": "12"},
            "setting MODEL_N_CTX: Input should be greater than or equal to 256",
        ),
        (
            {"MODEL_KEEP_ALIVE": "-2"},
            "setting MODEL_KEEP_ALIVE: Input should be greater than or equal to -1",
        ),
        (
            {"MODEL_PARALLEL": "0"},
            "setting MODEL_PARALLEL: Input should be greater than or equal to 1",
        ),
        (
            {"MODEL_PARALLEL": "65"},
            "setting MODEL_PARALLEL: Input should be less than or equal to 64",
        ),
        (  # 1024 tokens shared by 8 answers leaves each 128
            {"MODEL_CONTEXT_BUDGET": "1024", "MODEL_PARALLEL": "8"},
            "setting MODEL_CONTEXT_BUDGET: 1024 tokens shared by MODEL_PARALLEL=8 answers "
            "leaves each fewer than",
        ),
        (
            {"MODEL_ENGINE": "vllm"},
            "setting MODEL_ENGINE: Input should be 'auto', 'in-process' or 'llama-server'",
        ),
        (
            {"MODEL_SERVER_BINARY": "/nope/llama-server"},
            "setting MODEL_SERVER_BINARY: llama-server binary '/nope/llama-server' does not exist",
        ),
        ({"DISCORD_GUILD_ID": "abc"}, "setting DISCORD_GUILD_ID: Input should be a valid integer"),
        (  # Discord's maximum of channels per guild
            {"DISCORD_CHANNEL_BUDGET": "501"},
            "setting DISCORD_CHANNEL_BUDGET: Input should be less than or equal to 500",
        ),
        (
            {"DISCORD_CHANNEL_BUDGET": "0"},
            "setting DISCORD_CHANNEL_BUDGET: Input should be greater than or equal to 1",
        ),
        (
            {"DISCORD_ARCHIVE_RETENTION_DAYS": "-1"},
            "setting DISCORD_ARCHIVE_RETENTION_DAYS: Input should be greater than or equal to 0",
        ),
        (
            {"MODELS": '{"x": "/nope.gguf"}'},
            "setting MODELS: model 'x': GGUF file '/nope.gguf' does not exist",
        ),
        (
            {"MODERATION_PATTERNS": '["(unclosed"]'},
            "setting MODERATION_PATTERNS: pattern '(unclosed' is not a valid",
        ),
        (  # prompts are checked with RE2, which has no look-arounds (and never backtracks)
            {"MODERATION_PATTERNS": '["(?<!not )secret"]'},
            "pattern '(?<!not )secret' is not a valid regular expression: invalid perl operator",
        ),
        (
            {"DISCORD_CLIENT_ID": "123", "DISCORD_OAUTH_REDIRECT_URL": "http://m.example/cb"},
            'setting DISCORD_CLIENT_SECRET: "Log in with Discord" needs DISCORD_CLIENT_ID',
        ),
        (
            {"DISCORD_OAUTH_REDIRECT_URL": "ftp://m.example/cb"},
            "setting DISCORD_OAUTH_REDIRECT_URL: must be an http:// or https:// URL",
        ),
        ({"DISCORD_API_BASE": "discord.com"}, "setting DISCORD_API_BASE: must be an http://"),
        ({"DISCORD_GATEWAY_URL": "http://x"}, "setting DISCORD_GATEWAY_URL: must be a ws://"),
        (
            {"S3_BUCKET_NAME": "b"},
            "S3_BUCKET_NAME is set but S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are missing",
        ),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert expected in str(error.value)


def test_the_llama_server_engine_needs_a_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODEL_ENGINE", "llama-server")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))  # nothing installed beside Python
    monkeypatch.setenv("PATH", str(tmp_path))  # nor on PATH
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "setting MODEL_ENGINE=llama-server: no llama-server binary was found" in str(error.value)
    binary = tmp_path / "bin" / "llama-server"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    assert load_settings().model_server == binary
    monkeypatch.setenv("MODEL_ENGINE", "in-process")
    assert load_settings().model_server is None


def test_auto_runs_llama_server_where_one_is_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert load_settings().model_engine == "auto"
    assert load_settings().model_server is None  # none installed: in process
    binary = tmp_path / "bin" / "llama-server"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    assert load_settings().model_server == binary


@pytest.mark.parametrize(
    "name",
    [
        "CHAT_RATE_LIMIT",
        "LOGIN_RATE_LIMIT",
        "LOGIN_ADDRESS_RATE_LIMIT",
        "PASSWORD_GUESS_RATE_LIMIT",
        "REGISTRATION_RATE_LIMIT",
        "PASTE_RATE_LIMIT",
        "LINK_RATE_LIMIT",
    ],
)
def test_every_rate_setting_is_checked(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "lots")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert f"setting {name}: 'lots' is not a rate" in str(error.value)


def test_discord_api_base_gets_a_version() -> None:
    assert Settings().discord_rest_url == "https://discord.com/api/v10"
    emulator = Settings(discord_api_base="http://127.0.0.1:9/api/v10/")
    assert emulator.discord_rest_url == "http://127.0.0.1:9/api/v10"


def test_yaml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "meatlizard.yaml"
    config.write_text("chat_rate_limit: 7/minute\nmax_prompt_chars: 99\n")
    monkeypatch.setenv("MEATLIZARD_CONFIG", str(config))
    monkeypatch.setenv("MAX_PROMPT_CHARS", "123")
    settings = Settings()
    assert settings.chat_rate.count == 7
    assert settings.max_prompt_chars == 123


def test_missing_yaml_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEATLIZARD_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(SettingsError, match="MEATLIZARD_CONFIG: no such file"):
        load_settings()


def _cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meatlizard", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_cli_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DATABASE_URL": "mysql://nope"}
    result = _cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("meatlizard: setting DATABASE_URL:")


def test_cli_half_configured_discord_login_stops_with_one_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DISCORD_CLIENT_ID": "42", "DISCORD_CLIENT_SECRET": "s"}
    result = _cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'meatlizard: setting DISCORD_OAUTH_REDIRECT_URL: "Log in with Discord" needs '
        "DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET and DISCORD_OAUTH_REDIRECT_URL "
        "(set all three or none)"
    ]


def test_cli_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    import os

    key = _cli("keygen").stdout.strip()
    assert len(key) == 64
    int(key, 16)
    env = {**os.environ, "PAYLOAD_ENCRYPTION_KEY": key, "DATA_DIR": str(tmp_path / "d")}
    assert _cli("migrate", env=env, cwd=tmp_path).returncode == 0


def test_cli_create_admin_then_login_works(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DATA_DIR": str(tmp_path / "d")}
    result = _cli("create-admin", "boss", "--password", "a strong password", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "boss is an admin" in result.stdout
    weak = _cli("create-admin", "boss2", "--password", "weak", env=env, cwd=tmp_path)
    assert weak.returncode == 2
    assert "password must be 8-256 characters" in weak.stderr


@pytest.mark.parametrize(
    ("command", "env", "expected"),
    [
        (
            "client-bot",
            {"REDIS_URL": "redis://127.0.0.1:1/0", "PAYLOAD_ENCRYPTION_KEY": "ab" * 31},
            "meatlizard: setting PAYLOAD_ENCRYPTION_KEY: must be 64 hexadecimal",
        ),
        (
            "client-bot",
            {"REDIS_URL": "redis://127.0.0.1:1/0"},
            "meatlizard: setting PAYLOAD_ENCRYPTION_KEY: required",
        ),
        (
            "serve",
            {"INFERENCE": "remote", "REDIS_URL": "redis://127.0.0.1:1/0"},
            "meatlizard: INFERENCE=remote needs REDIS_URL and PAYLOAD_ENCRYPTION_KEY",
        ),
    ],
)
def test_cli_payload_key_problems_stop_with_one_line(
    tmp_path: Path, command: str, env: dict[str, str], expected: str
) -> None:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("PAYLOAD_")}
    result = _cli(command, env={**base, **env, "DATA_DIR": str(tmp_path / "d")}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected)
