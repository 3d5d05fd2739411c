"""The relay between web processes and inference workers: sealed wire, Redis and Discord links."""
