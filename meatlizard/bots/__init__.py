"""The Discord bots: the server-bot (slash commands, sessions, relay) and the client-bot."""
