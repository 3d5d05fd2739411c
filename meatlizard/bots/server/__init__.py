"""The server-bot: slash commands, one private channel per session, the relay to the client-bot."""
