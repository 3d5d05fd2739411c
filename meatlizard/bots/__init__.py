"""The Discord bots: the server-bot (slash commands, sessions, relay) and the client-bot."""

# Seconds a bot waits after READY for the guilds' GUILD_CREATE events before it calls itself
# ready: discord.py's own default, named once for both bots (tests pass a shorter one).
GUILD_READY_TIMEOUT_S = 2.0
