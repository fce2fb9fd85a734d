"""The `showcaller` command line.

A command is a function `(args) -> int` (or `async def`, run with `asyncio.run`),
registered with `showcaller.commands.command` in a module of the `showcaller.commands`
package (every module there is imported before parsing; see that package's docstring).
Documents go to stdout (or `-o FILE`), messages to stderr. A `ShowcallerError` becomes
one line per problem and its exit code: 0 ok, 1 the job failed, 2 usage or config
error, 3 cannot reach or authenticate to OBS; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from showcaller import __version__
from showcaller.commands import COMMANDS
from showcaller.errors import ConfigError, ShowcallerError
from showcaller.words import unexpected

# -- main -----------------------------------------------------------------------------------


def _discover_commands() -> None:
    """Import every module of `showcaller.commands` (if the package exists) to register it."""
    package = importlib.import_module("showcaller.commands")
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
