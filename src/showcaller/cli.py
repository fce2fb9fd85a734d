"""The `showcaller` command line.

A command is a function `(args) -> int` (or `async def`, run with `asyncio.run`),
registered with the `command` decorator, here or in a module of the
`showcaller.commands` package (every module there is imported before parsing):

    @command("chapters", "print YouTube chapters from a journal", arguments=_chapters_args)
    def _chapters(args: argparse.Namespace) -> int: ...

Import heavy modules inside the function, so `showcaller --version` stays quick.
Documents go to stdout (or `-o FILE`), messages to stderr. A `ShowcallerError` becomes
one line per problem and its exit code: 0 ok, 1 the job failed, 2 usage or config
error, 3 cannot reach or authenticate to OBS; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import logging
import pkgutil
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from showcaller import __version__
from showcaller.errors import ConfigError, ShowcallerError
from showcaller.words import plural, unexpected

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from showcaller.config import OBS, EventConfig, ResolvedSlot

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


# -- argument helpers shared by commands ----------------------------------------------------


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


# -- commands -------------------------------------------------------------------------------


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument(
        "--obs",
        metavar="URL|sim",
        help="also check that this OBS has every scene and input the file and the scene "
        "templates name (the password comes from SHOWCALLER_OBS__PASSWORD)",
    )


@command(
    "validate",
    "check an event file and show its timetable (with --obs: and that OBS has its scenes)",
    arguments=_validate_arguments,
)
def _validate(args: argparse.Namespace) -> int | Coroutine[Any, Any, int]:
    from showcaller.clock import SystemClock
    from showcaller.config import load_config
    from showcaller.config.load import date_warnings

    config = load_config(args.config)
    obs = obs_target(args, config)
    print_summary(config, _stdout_console(), obs=obs)
    for warning in date_warnings(config, SystemClock().now()):
        print(f"warning: {warning}", file=sys.stderr)
    if args.obs:
        from showcaller.commands.provision import validate_against_obs

        return validate_against_obs(config, obs)
    return 0


@command(
    "schema",
    "print the JSON Schema of the event file (for editor completion)",
    arguments=add_output_argument,
)
def _schema(args: argparse.Namespace) -> int:
    from showcaller.config import json_schema

    write_document(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", args.output)
    return 0


def _stdout_console() -> Console:
    from rich.console import Console

    # A pipe or a file gets wide lines rather than titles wrapped at 80 columns.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


_WEEKDAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def print_summary(config: EventConfig, console: Console, *, obs: OBS | None = None) -> None:
    """The event, OBS target (`obs`: the one `--obs` names) and the resolved timetable, as
    `validate` shows them."""
    from rich.table import Table

    event, slots = config.event, config.slots_resolved()
    head = Table.grid(padding=(0, 2))
    head.add_row("event", f"[bold]{event.title}[/bold]")
    weekday = _WEEKDAYS[event.language][event.date.weekday()]
    head.add_row("date", f"{event.date.isoformat()} ({weekday}) {event.timezone}")
    if event.hashtag:
        head.add_row("hashtag", event.hashtag)
    obs = obs or config.obs
    password = "***" if obs.password.get_secret_value() else "not set"
    head.add_row("OBS", f"{obs.url} (password: {password})")
    span = f"{_clock(slots[0].start, config)}-{_clock(slots[-1].end, config)}"
    head.add_row("show", f"{plural(len(slots), 'slot')}, {span}")
    console.print(head)

    table = Table(title="timetable", title_justify="left")
    for name in ("#", "start", "end", "kind", "title", "speakers", "scene", "at the end"):
        table.add_column(name, no_wrap=name in ("#", "start", "end", "kind"))
    for slot in slots:
        table.add_row(
            str(slot.index),
            _clock(slot.start, config),
            _clock(slot.end, config),
            slot.kind,
            slot.title,
            ", ".join(s.name for s in slot.speakers),
            slot.scene,
            _end_behaviour(slot),
        )
    console.print(table)


def _clock(moment: datetime, config: EventConfig) -> str:
    local = moment.astimezone(config.tz)
    days = (local.date() - config.event.date).days
    return local.strftime("%H:%M") + (f" +{days}d" if days else "")


def _end_behaviour(slot: ResolvedSlot) -> str:
    if slot.end_mode == "grace":
        return f"warn, +{slot.grace_s}s"
    return slot.end_mode


# -- main -----------------------------------------------------------------------------------


def _discover_commands() -> None:
    """Import every module of `showcaller.commands` (if the package exists) to register it."""
    try:
        package = importlib.import_module("showcaller.commands")
    except ModuleNotFoundError as exc:
        if exc.name != "showcaller.commands":
            raise
        return
    for module in pkgutil.iter_modules(package.__path__, "showcaller.commands."):
        importlib.import_module(module.name)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    _discover_commands()
    parser = argparse.ArgumentParser(
        prog="showcaller", description="The show caller of an online meetup: drives OBS Studio."
    )
    parser.add_argument("--version", action="version", version=f"showcaller {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--verbose", action="store_true", help="also log what happens (connected to OBS, ...)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = commands.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        # Also accepted after the command; SUPPRESS keeps it from resetting the global value.
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        sub.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help="also log INFO"
        )
        if cmd.arguments:
            cmd.arguments(sub)
        sub.set_defaults(run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    debug: bool = args.debug
    # One policy for every command: a normal run prints only the command's own output
    # (and warnings); --verbose adds what happens (INFO), --debug everything.
    level = logging.DEBUG if debug else logging.INFO if args.verbose else logging.WARNING
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=level,
            format="%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    try:
        result = args.run(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result)
    except ShowcallerError as exc:
        if debug:
            traceback.print_exc()
        _print_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # The last resort: an unexpected failure still gets one line and an exit code.
        if debug:
            traceback.print_exc()
        print(
            f"error: {unexpected(exc)} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


def _print_error(exc: ShowcallerError) -> None:
    if isinstance(exc, ConfigError) and exc.problems:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return
    print(f"error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
