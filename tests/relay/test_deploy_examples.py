"""The deployment examples name real settings, files and commands."""

from __future__ import annotations

import ipaddress
import plistlib
import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from meatlizard.cli import app
from meatlizard.core.settings import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"
SETTING_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)
# Read by uvicorn itself under `meatlizard serve`, not by our settings.
SERVER_VARIABLES = {"FORWARDED_ALLOW_IPS"}


def _check_command(line: str) -> None:
    """Parse a `meatlizard ...` command line with the real CLI (unknown options fail)."""
    words = shlex.split(line)
    words = words[words.index(next(w for w in words if w.endswith("meatlizard"))) + 1 :]
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.commands.get(words[0])
    assert command is not None, f"no command {words[0]!r}"
    command.make_context(words[0], words[1:])


@pytest.mark.parametrize("name", ["env.example", "client-bot.env.example"])
def test_env_examples_use_only_known_settings(name: str) -> None:
    found = SETTING_LINE.findall((DEPLOY / name).read_text())
    assert "PAYLOAD_ENCRYPTION_KEY" in found
    unknown = {s for s in found if s.lower() not in Settings.model_fields} - SERVER_VARIABLES
    assert not unknown, f"{name} names settings that do not exist: {unknown}"


def test_compose_refers_to_files_and_commands_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service, spec in compose["services"].items():
        env_file = spec.get("env_file")
        if env_file:
            assert (DEPLOY / f"{env_file}.example").is_file(), f"{service}: {env_file}"
        for setting in spec.get("environment", {}):
            if spec.get("build") and setting not in SERVER_VARIABLES:
                assert setting.lower() in Settings.model_fields, f"{service}: {setting}"
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                shipped = DEPLOY / source[2:]  # the file itself, or an example to copy
                found = shipped.is_file() or Path(f"{shipped}.example").is_file()
                assert found, f"{service}: {source}"
        if spec.get("build"):
            for part in str(spec["command"]).removeprefix('sh -c "').rstrip('"').split("&&"):
                _check_command(part)


def test_compose_trusts_forwarded_headers_from_its_proxy_only() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    proxy = services["caddy"]["networks"]["default"]["ipv4_address"]
    [subnet] = [c["subnet"] for c in compose["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(proxy) in ipaddress.ip_network(subnet)
    serve = re.compile(r"\bmeatlizard serve\b(?!-)")
    web = [n for n, spec in services.items() if serve.search(str(spec.get("command")))]
    assert len(web) == 2
    for name in web:
        trusted = services[name]["environment"]["FORWARDED_ALLOW_IPS"]
        assert trusted.split(",") == [proxy], name  # not "*": clients could forge their address
        assert "ports" not in services[name], name  # reachable only through the proxy
    upstreams = services["caddy"]["environment"]["MEATLIZARD_UPSTREAMS"].split()
    assert sorted(upstreams) == [f"{name}:8000" for name in sorted(web)]
    assert "./caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").iterdir()))
def test_systemd_units_run_real_commands(unit: str) -> None:
    text = (DEPLOY / "systemd" / unit).read_text()
    lines = re.findall(r"^Exec\w+=(.+)$", text, re.MULTILINE)
    assert lines
    for line in lines:
        _check_command(line.replace("%i", "8001"))
    env_file = re.search(r"^EnvironmentFile=/etc/meatlizard/(.+)$", text, re.MULTILINE)
    assert env_file and (DEPLOY / f"{env_file.group(1)}.example").is_file()


def test_launchd_agent_runs_the_client_bot() -> None:
    agent = DEPLOY / "launchd" / "org.meatlizard.client-bot.plist"
    spec = plistlib.loads(agent.read_bytes())
    assert spec["Label"] == agent.stem
    shell, flag, script = spec["ProgramArguments"]
    assert (shell, flag) == ("/bin/sh", "-c")
    env_file = re.search(r"\. (\S+/client-bot\.env);", script)
    assert env_file, script
    _check_command(script.split("exec ", 1)[1])
    assert spec["KeepAlive"] == {"SuccessfulExit": False}  # no restart after a clean stop
