"""Database backups to object storage, and restore from them."""
