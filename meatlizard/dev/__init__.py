"""Developer tools: local stand-ins for outside services, for tests and local trials."""
