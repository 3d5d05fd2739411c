"""Application commands: bulk overwrite as Discord stores them; options and modal values sent."""

from __future__ import annotations

import re
from typing import Any

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.models import Application, snowflake
from meatlizard.dev.discord_emulator.state import State

CHAT_INPUT = 1
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMANDS = 100


def overwrite(
    state: State, app: Application, guild_id: int | None, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace the app's commands in a scope; a command keeps its id when its name stays."""
    if not isinstance(items, list) or len(items) > MAX_COMMANDS:
        raise errors.invalid_form("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer.")
    current = state.commands.get((app.id, guild_id), {})
    by_name = {(c["name"], c["type"]): c for c in current.values()}
    stored: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        command = _validated(item, str(index))
        previous = by_name.get((command["name"], command["type"]))
        ident = int(previous["id"]) if previous else snowflake()
        command.update(
            {
                "id": str(ident),
                "application_id": str(app.id),
                "version": str(snowflake()),
            }
        )
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        stored[ident] = command
    state.commands[(app.id, guild_id)] = stored
    return list(stored.values())


def _validated(item: dict[str, Any], where: str) -> dict[str, Any]:
    kind = int(item.get("type") or CHAT_INPUT)
    name = item.get("name")
    if (
        not isinstance(name, str)
        or not NAME.match(name)
        or (kind == CHAT_INPUT and name.lower() != name)
    ):
        raise errors.invalid_form(
            f"{where}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"
        )
    description = item.get("description") or ""
    if kind == CHAT_INPUT and not 1 <= len(description) <= 100:
        raise errors.invalid_form(
            f"{where}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return {
        "type": kind,
        "name": name,
        "name_localizations": item.get("name_localizations"),
        "description": description,
        "description_localizations": item.get("description_localizations"),
        "options": item.get("options") or [],
        "default_member_permissions": item.get("default_member_permissions"),
        "dm_permission": item.get("dm_permission", True),
        "nsfw": bool(item.get("nsfw", False)),
        "integration_types": item.get("integration_types") or [0],
        "contexts": item.get("contexts"),
    }


def find(state: State, app: Application, guild_id: int | None, name: str) -> dict[str, Any]:
    """Return the registered chat command by name (guild scope first), or raise LookupError."""
    for scope in (guild_id, None):
        for command in state.commands.get((app.id, scope), {}).values():
            if command["name"] == name and command["type"] == CHAT_INPUT:
                return command
    raise LookupError(f"no command /{name} registered by application {app.id}")


def build_options(
    schema: list[dict[str, Any]], path: list[str], values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return interaction options for a sub-command path and values, checked by the schema."""
    if path:
        sub = next((o for o in schema if o["name"] == path[0]), None)
        if sub is None or sub["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise LookupError(f"no sub-command {path[0]!r}")
        return [
            {
                "name": sub["name"],
                "type": sub["type"],
                "options": build_options(sub.get("options") or [], path[1:], values),
            }
        ]
    known = {o["name"]: o for o in schema}
    unknown = set(values) - set(known)
    if unknown:
        raise LookupError(f"unknown options {sorted(unknown)}")
    missing = [n for n, o in known.items() if o.get("required") and n not in values]
    if missing:
        raise LookupError(f"missing required options {missing}")
    return [
        {"name": name, "type": known[name]["type"], "value": _value(known[name], value)}
        for name, value in values.items()
    ]


def _value(option: dict[str, Any], value: Any) -> Any:
    kind = option["type"]
    if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
        return str(getattr(value, "id", value))
    converted = {STRING: str, INTEGER: int, BOOLEAN: bool, NUMBER: float}.get(kind, lambda v: v)(
        value
    )
    choices = option.get("choices")
    if choices and converted not in [c["value"] for c in choices]:
        raise LookupError(f"{converted!r} is not a choice of {option['name']!r}")
    return converted


def leaf_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the value-carrying options under any sub-command nesting."""
    for option in options:
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            return leaf_options(option.get("options", []))
    return options


def resolved(state: State, options: list[dict[str, Any]], guild_id: int | None) -> dict[str, Any]:
    """Return the interaction's `resolved` objects for user, channel and role option values."""
    found: dict[str, dict[str, Any]] = {}
    for option in options:
        ident = option["value"]
        if option["type"] in (USER, MENTIONABLE) and int(ident) in state.users:
            found.setdefault("users", {})[ident] = state.users[int(ident)].payload()
            guild = state.guilds.get(guild_id) if guild_id else None
            if guild is not None and int(ident) in guild.members:  # as Discord: the member too
                member = guild.members[int(ident)].payload()
                member.pop("user", None)
                found.setdefault("members", {})[ident] = member
        elif option["type"] == CHANNEL:
            channel = state.channel(ident)
            found.setdefault("channels", {})[ident] = {
                "id": ident,
                "type": channel.type,
                "name": channel.name,
                "permissions": "0",
            }
        elif option["type"] == ROLE:
            for guild in state.guilds.values():
                if int(ident) in guild.roles:
                    found.setdefault("roles", {})[ident] = guild.roles[int(ident)].payload()
    return found


def filled(component: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Return a modal component as submitted: text inputs carry their values."""
    kind = component.get("type")
    if kind == 4:
        custom_id = component["custom_id"]
        return {
            "type": 4,
            "id": component.get("id", 0),
            "custom_id": custom_id,
            "value": values.get(custom_id, ""),
        }
    result = {"type": kind, "id": component.get("id", 0)}
    if "components" in component:
        result["components"] = [filled(c, values) for c in component["components"]]
    if "component" in component:
        result["component"] = filled(component["component"], values)
    return result
