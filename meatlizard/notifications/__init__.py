"""Messages for a user shown on the web (e.g. "your transcript is ready")."""
