"""The subcommands: one module each, registered with `command`; the CLI (`cli.py`) imports
every module here before parsing. The registry and the argument helpers the commands
share live here, below the CLI, so a command never imports the CLI.

    @command("chapters", "print YouTube chapters from a journal", arguments=_chapters_args)
    def _chapters(args: argparse.Namespace) -> int: ...

Import heavy modules inside the function, so `showcaller --version` stays quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from showcaller.errors import ShowcallerError

if TYPE_CHECKING:
    from showcaller.config import OBS, EventConfig

Run = Callable[[argparse.Namespace], int | Coroutine[Any, Any, int]]
_RunT = TypeVar("_RunT", bound=Run)


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help, arguments and the function that runs it."""

    name: str
    help: str
    run: Run
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, *, arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[_RunT], _RunT]:
    """Register the decorated function as the subcommand `name`."""

    def register(run: _RunT) -> _RunT:
        COMMANDS[name] = Command(name, help, run, arguments)
        return run

    return register


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The event file, as the positional `config`."""
    parser.add_argument("config", type=Path, metavar="FILE", help="the event's TOML file")


def add_obs_argument(parser: argparse.ArgumentParser) -> None:
    """`--obs URL|sim`, overriding the config's obs.url."""
    parser.add_argument(
        "--obs",
        metavar="URL|sim",
        help="OBS to drive: ws://host:port or sim (default: the config's obs.url); "
        "the password comes from SHOWCALLER_OBS__PASSWORD",
    )


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    """`-o FILE` for commands that write a document (stdout without it)."""
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )


def write_document(text: str, output: Path | None) -> None:
    """Write a document to `output`, or to stdout when it is None."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ShowcallerError(f"cannot write {output}: {exc.strerror or exc}") from exc
    print(f"wrote {output}", file=sys.stderr)


def obs_target(args: argparse.Namespace, config: EventConfig | None) -> OBS:
    """The OBS settings a command uses: `--obs` over the config, password from config or env."""
    from showcaller.config import obs_settings

    return obs_settings(config, url=getattr(args, "obs", None))


__all__ = [
    "COMMANDS",
    "Command",
    "add_config_argument",
    "add_obs_argument",
    "add_output_argument",
    "command",
    "obs_target",
    "write_document",
]
