"""The `meatlizard` command line, one module per group of commands (see meatlizard/cli.py)."""
