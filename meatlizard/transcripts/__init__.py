"""Opt-in chat transcripts written to object storage when a session ends."""
