"""Answering slash commands inside Discord's deadlines, and never twice on a dead interaction."""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

# Discord's JSON error codes (topics/opcodes-and-status-codes#json) for an interaction that can
# no longer be answered: its 3 s acknowledgement window passed (10062), its 15-minute follow-up
# token expired (10015, 50027), or it was answered already (40060).
UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN, ALREADY_ACKNOWLEDGED = (
    10062,
    10015,
    50027,
    40060,
)
DEAD_INTERACTION_CODES = frozenset(
    {UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN, ALREADY_ACKNOWLEDGED}
)


def is_dead_interaction(error: BaseException) -> bool:
    """Return whether an error says the interaction can no longer be answered."""
    cause = getattr(error, "original", error)
    return isinstance(cause, discord.HTTPException) and cause.code in DEAD_INTERACTION_CODES


def command_name(interaction: discord.Interaction) -> str:
    """Return the command's qualified name for the log ('?' for a component)."""
    command = interaction.command
    return command.qualified_name if command is not None else "?"


async def defer(interaction: discord.Interaction) -> None:
    """Acknowledge at once (Discord allows 3 s); the answer follows within 15 minutes."""
    await interaction.response.defer(ephemeral=True, thinking=True)


async def reply(interaction: discord.Interaction, text: str, **options: Any) -> None:
    """Answer ephemerally, deferred or not; a dead interaction is logged, not raised."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, **options)
        else:
            await interaction.response.send_message(text, ephemeral=True, **options)
    except discord.HTTPException as exc:
        if not is_dead_interaction(exc):
            raise
        log.warning(
            "/%s could not be answered, the interaction expired: %s", command_name(interaction), exc
        )


async def report_error(
    interaction: discord.Interaction, error: BaseException, *, known: bool, fallback: str
) -> None:
    """Tell the user what failed, unless the failure is that the interaction is already dead."""
    cause = getattr(error, "original", error)
    if is_dead_interaction(cause):
        log.warning(
            "/%s was not acknowledged within Discord's deadline: %s",
            command_name(interaction),
            cause,
        )
        return
    if not known:
        log.exception("/%s failed", command_name(interaction), exc_info=cause)
    await reply(interaction, str(cause) if known else fallback)
