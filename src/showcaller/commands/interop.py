"""`showcaller import` (schedule.json, CSV, connpass → an event file) and `showcaller ics`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from showcaller.commands import add_config_argument, add_output_argument, command, write_document
from showcaller.errors import UsageError
from showcaller.words import plural


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-10") from None


def _event_id(text: str) -> int:
    digits = text.rstrip("/").rsplit("/", 1)[-1]
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a connpass event id (the N of https://….connpass.com/event/N/)"
        )
    return int(digits)


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `showcaller import`."""
    parser.add_argument(
        "schedule",
        type=Path,
        nargs="?",
        metavar="SCHEDULE",
        help="frab/pretalx schedule.json or a CSV timetable (optional with --connpass)",
    )
    parser.add_argument("--room", help="the room to import (one show per room)")
    parser.add_argument(
        "--day", metavar="N|DATE", help="the schedule's day: its number (1, 2, …) or its date"
    )
    parser.add_argument(
        "--format",
        metavar="pretalx|frab|csv",
        help="the schedule's format (default: from its name)",
    )
    parser.add_argument("--title", help="the event's title (over the schedule's)")
    parser.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="the day (CSV)")
    parser.add_argument("--timezone", metavar="ZONE", help="IANA zone of a CSV's times")
    parser.add_argument("--hashtag", help='the event\'s hashtag, e.g. "#mlct"')
    parser.add_argument("--url", help="the event page")
    parser.add_argument("--language", choices=("ja", "en"), help="the event's language")
    parser.add_argument(
        "--connpass",
        type=_event_id,
        metavar="EVENT_ID",
        help="fill title, date, start, hashtag and page from connpass "
        "(needs SHOWCALLER_CONNPASS__API_KEY)",
    )
    add_output_argument(parser)


@command(
    "import",
    "write an event file from a schedule (pretalx/frab JSON, CSV) or a connpass event",
    arguments=add_import_arguments,
)
async def import_command(args: argparse.Namespace) -> int:
    """Read the sources, write the event file, and say what it holds."""
    from showcaller.interop.connpass import ConnpassSettings, fetch_event
    from showcaller.interop.eventfile import event_file
    from showcaller.interop.importing import ImportRequest, import_event

    request = ImportRequest(
        schedule=args.schedule,
        format=args.format,
        room=args.room,
        day=args.day,
        title=args.title,
        date=args.date,
        timezone=args.timezone,
        hashtag=args.hashtag,
        url=args.url,
        language=args.language,
    )
    if args.schedule is None and args.connpass is None:
        raise UsageError(
            "give a schedule file, or --connpass EVENT_ID", hint="showcaller import --help"
        )
    connpass = None
    if args.connpass is not None:
        connpass = await fetch_event(args.connpass, ConnpassSettings())
    event = import_event(request, connpass)
    text = event_file(event)
    _check(text, args.output)
    write_document(text, args.output)
    for note in event.notes[1:]:
        print(f"note: {note}", file=sys.stderr)
    talks = sum(1 for s in event.slots if s.kind in ("talk", "lt"))
    print(
        f"{event.title}: {plural(len(event.slots), 'slot')} ({plural(talks, 'talk')}), "
        f"{plural(len(event.speakers), 'speaker')}, {event.date} ({event.timezone})",
        file=sys.stderr,
    )
    return 0


def _check(text: str, output: Path | None) -> None:
    """Load the written file back with the config loader: an import never writes a bad file."""
    import tempfile

    from showcaller.config import load_config

    with tempfile.TemporaryDirectory(prefix="showcaller-import-") as tmp:
        path = Path(tmp) / (output.name if output is not None else "imported.toml")
        path.write_text(text, encoding="utf-8")
        load_config(path)


def add_ics_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `showcaller ics`."""
    add_config_argument(parser)
    add_output_argument(parser)


@command(
    "ics", "write the plan as an iCalendar file (one entry per slot)", arguments=add_ics_arguments
)
def ics_command(args: argparse.Namespace) -> int:
    """Load the event file and write its calendar."""
    from showcaller.clock import SystemClock
    from showcaller.config import load_config
    from showcaller.interop.ics import calendar

    cfg = load_config(args.config)
    text = calendar(cfg, SystemClock().now())
    if args.output is None:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
    else:
        try:
            args.output.write_bytes(text.encode())
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
