"""Subcommands registered with `showcaller.cli.command`; the CLI imports every module here."""
