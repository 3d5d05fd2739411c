"""Slash commands synced by discord.py's CommandTree, invoked by a user and answered."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from meatlizard.dev.discord_emulator.message import LOADING
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running


class StartModal(discord.ui.Modal, title="System prompt"):
    prompt: discord.ui.TextInput = discord.ui.TextInput(label="Prompt", custom_id="prompt")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"prompt set: {self.prompt.value}", ephemeral=True)


class ConfirmView(discord.ui.View):
    @discord.ui.button(label="Confirm", custom_id="confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="confirmed", view=None)


def make_bot(guild_id: int) -> commands.Bot:
    bot = commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )
    ai = app_commands.Group(name="ai", description="AI chat")

    @ai.command(name="start", description="Start a chat session")
    @app_commands.describe(preset="Prompt preset", temperature="Sampling temperature")
    async def start(interaction: discord.Interaction, preset: str, temperature: float = 0.7):
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(f"started {preset} at {temperature}", ephemeral=True)

    @ai.command(name="end", description="End the chat session")
    async def end(interaction: discord.Interaction):
        await interaction.response.send_message("ending...", view=ConfirmView())
        await interaction.edit_original_response(content="ended")

    @ai.command(name="set-system", description="Set the system prompt")
    async def set_system(interaction: discord.Interaction):
        await interaction.response.send_modal(StartModal())

    bot.tree.add_command(ai, guild=discord.Object(guild_id))
    return bot


async def test_sync_registers_documented_command_objects(discord_world: DiscordWorld):
    emulator, guild = discord_world.emulator, discord_world.guild
    bot = make_bot(guild.id)
    async with running(bot, discord_world.bot.token):
        synced = await bot.tree.sync(guild=discord.Object(guild.id))
        assert [c.name for c in synced] == ["ai"]
        again = await bot.tree.sync(guild=discord.Object(guild.id))
        assert again[0].id == synced[0].id  # overwriting keeps the id of a same-named command
        fetched = await bot.tree.fetch_commands(guild=discord.Object(guild.id))
        assert [c.id for c in fetched] == [synced[0].id]
    stored = emulator.core.state.commands[(discord_world.bot.id, guild.id)]
    command = next(iter(stored.values()))
    assert command["guild_id"] == str(guild.id) and command["application_id"] == str(
        discord_world.bot.id
    )
    start = next(o for o in command["options"] if o["name"] == "start")
    assert start["type"] == 1
    assert [(o["name"], o["type"], o.get("required")) for o in start["options"]] == [
        ("preset", 3, True),
        ("temperature", 10, False),
    ]


async def test_deferred_ephemeral_followup_fills_the_thinking_message(discord_world: DiscordWorld):
    emulator, guild = discord_world.emulator, discord_world.guild
    general = next(iter(guild.channels.values()))
    bot = make_bot(guild.id)
    async with running(bot, discord_world.bot.token):
        await bot.tree.sync(guild=discord.Object(guild.id))
        interaction = emulator.invoke_command(
            discord_world.bot, discord_world.member, general, "ai start", preset="coding"
        )
        answer = await interaction.wait_response()
        assert answer["type"] == 5 and answer["data"]["flags"] & 64
        original = await emulator.wait_until(
            lambda: (
                interaction.original
                and not interaction.original.flags & LOADING
                and interaction.original
            )
        )
    assert original.content == "started coding at 0.7"
    assert original.ephemeral and original.type == 20
    assert original.interaction_metadata["user"]["id"] == str(discord_world.member.id)
    assert interaction.followups == []
    assert original not in emulator.history(general, include_ephemeral=False)


async def test_reply_edit_original_and_button_update(discord_world: DiscordWorld):
    emulator, guild = discord_world.emulator, discord_world.guild
    general = next(iter(guild.channels.values()))
    bot = make_bot(guild.id)
    async with running(bot, discord_world.bot.token):
        await bot.tree.sync(guild=discord.Object(guild.id))
        interaction = emulator.invoke_command(
            discord_world.bot, discord_world.member, general, "ai end"
        )
        assert (await interaction.wait_response())["type"] == 4
        message = await emulator.wait_until(
            lambda: interaction.original.content == "ended" and interaction.original
        )
        assert message.edits == ["ending..."] and not message.ephemeral
        assert message.components[0]["components"][0]["custom_id"] == "confirm"
        click = emulator.click_button(discord_world.bot, discord_world.member, message, "confirm")
        assert (await click.wait_response())["type"] == 7
    assert message.content == "confirmed" and message.components == []
    assert emulator.history(general) == [message]


async def test_modal_is_shown_and_its_submission_answered(discord_world: DiscordWorld):
    emulator, guild = discord_world.emulator, discord_world.guild
    general = next(iter(guild.channels.values()))
    bot = make_bot(guild.id)
    async with running(bot, discord_world.bot.token):
        await bot.tree.sync(guild=discord.Object(guild.id))
        shown = emulator.invoke_command(
            discord_world.bot, discord_world.member, general, "ai set-system"
        )
        assert (await shown.wait_response())["type"] == 9
        assert shown.modal is not None and shown.modal["title"] == "System prompt"
        submitted = emulator.submit_modal(shown, {"prompt": "be terse"})
        assert (await submitted.wait_response())["type"] == 4
    assert submitted.original is not None
    assert submitted.original.content == "prompt set: be terse"
    assert submitted.original.ephemeral
