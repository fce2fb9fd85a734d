"""`showcaller validate` and `showcaller schema`: the event file checked and shown."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from showcaller.commands import (
    add_output_argument,
    command,
    obs_target,
    write_document,
)
from showcaller.words import plural

if TYPE_CHECKING:
    from rich.console import Console

    from showcaller.config import OBS, EventConfig, ResolvedSlot


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="the event's TOML file; several files: one room each (docs/rooms.md)",
    )
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

    if len(args.config) > 1:
        return _validate_rooms(args)
    config = load_config(args.config[0])
    obs = obs_target(args, config)
    print_summary(config, _stdout_console(), obs=obs)
    for warning in date_warnings(config, SystemClock().now()):
        print(f"warning: {warning}", file=sys.stderr)
    if args.obs:
        from showcaller.commands.provision import validate_against_obs

        return validate_against_obs(config, obs)
    return 0


async def _validate_rooms(args: argparse.Namespace) -> int:
    """Every room's file (all loaded first: a broken one stops before any OBS is asked)."""
    from showcaller.clock import SystemClock
    from showcaller.config.load import date_warnings
    from showcaller.modes.rooms import load_rooms

    rooms = load_rooms(args.config, obs_url=args.obs)
    console = _stdout_console()
    worst = 0
    for room in rooms:
        console.rule(f"room {room.name} ({room.cfg.config_source})", align="left")
        print_summary(room.cfg, console, obs=room.obs)
        for warning in date_warnings(room.cfg, SystemClock().now()):
            print(f"warning: room {room.name}: {warning}", file=sys.stderr)
        if args.obs:
            from showcaller.commands.provision import validate_against_obs

            worst = max(worst, await validate_against_obs(room.cfg, room.obs))
    return worst


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
            str(slot.index + 1),
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
