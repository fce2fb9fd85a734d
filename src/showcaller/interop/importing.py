"""`showcaller import`: a schedule (frab/pretalx JSON, CSV) and/or a connpass event → an event.

What wins where several sources say something: the command line, then a CSV's `# key:`
lines, then connpass, then the schedule file. The times of talks always come from the
schedule file; connpass (which has no timetable) gives the start of a CSV whose first row
has none, and the whole evening when there is no schedule file at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from showcaller.interop.connpass import ConnpassEvent
from showcaller.interop.eventfile import with_standby
from showcaller.interop.frab import import_schedule
from showcaller.interop.schedule import (
    ImportedEvent,
    ImportedSlot,
    ScheduleError,
    build_timetable,
    guess_language,
)
from showcaller.interop.sheet import read_sheet

FORMATS = ("pretalx", "frab", "csv")
DEFAULT_ZONE = "Asia/Tokyo"


@dataclass(frozen=True)
class ImportRequest:
    """What `showcaller import` was asked (None: not given)."""

    schedule: Path | None = None
    format: str | None = None
    room: str | None = None
    day: str | None = None
    title: str | None = None
    date: dt.date | None = None
    timezone: str | None = None
    hashtag: str | None = None
    url: str | None = None
    language: str | None = None


def schedule_format(path: Path, given: str | None) -> str:
    """`json` (frab and pretalx read alike) or `csv`, from `--format` or the file's name."""
    if given is not None:
        if given not in FORMATS:
            raise ScheduleError(
                f"unknown format {given!r}", hint="use --format pretalx, frab or csv"
            )
        return "csv" if given == "csv" else "json"
    suffix = path.suffix.casefold()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ScheduleError(
        f"{path}: cannot tell the format from the name", hint="use --format pretalx, frab or csv"
    )


def import_event(request: ImportRequest, connpass: ConnpassEvent | None = None) -> ImportedEvent:
    """The event the sources describe; ScheduleError (exit 2) says what is missing or wrong."""
    if request.schedule is None:
        if connpass is None:
            raise ScheduleError("give a schedule file, or --connpass EVENT_ID")
        event = _from_connpass_only(connpass, request)
    elif schedule_format(request.schedule, request.format) == "json":
        event = import_schedule(
            request.schedule, room=request.room, day=request.day, language=request.language
        )
        event = _with_connpass(event, connpass)
    else:
        event = _from_sheet(request, connpass)
    return _with_options(with_standby(event), request)


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{where}: unknown time zone {name!r}", hint="use an IANA name like Asia/Tokyo"
        ) from None


def _connpass_zone(moment: datetime | None) -> str:
    """Asia/Tokyo when connpass's time is at Tokyo's offset (it always is), else UTC±N."""
    if (
        moment is None
        or moment.utcoffset() == moment.astimezone(ZoneInfo(DEFAULT_ZONE)).utcoffset()
    ):
        return DEFAULT_ZONE
    hours = (moment.utcoffset() or timedelta(0)).total_seconds() / 3600
    return f"Etc/GMT{-int(hours):+d}" if hours == int(hours) and hours else "UTC"


def _from_sheet(request: ImportRequest, connpass: ConnpassEvent | None) -> ImportedEvent:
    assert request.schedule is not None
    sheet = read_sheet(request.schedule)
    head = sheet.header
    start = connpass.started_at if connpass else None
    zone_name = request.timezone or head.get("timezone") or _connpass_zone(start)
    zone = _zone(zone_name, f"{request.schedule}: timezone")
    date = request.date
    if date is None and head.get("date"):
        try:
            date = dt.date.fromisoformat(head["date"])
        except ValueError:
            raise ScheduleError(
                f"{request.schedule}: # date: {head['date']!r} is not a date like 2026-12-10"
            ) from None
    if date is None and start is not None:
        date = start.astimezone(zone).date()
    title = request.title or head.get("title") or (connpass.title if connpass else "")
    if date is None or not title:
        missing = " and ".join(n for n, v in (("a title", title), ("a date", date)) if not v)
        raise ScheduleError(
            f"{request.schedule}: the CSV timetable needs {missing}",
            hint="give --title and --date 2026-12-10, or '# title: …' and '# date: …' lines "
            "before the header (or --connpass EVENT_ID)",
        )
    rooms = sheet.rooms()
    room = request.room
    if room is not None and room not in rooms:
        raise ScheduleError(
            f"{request.schedule}: no room {room!r} in the room column",
            hint=f"rooms: {', '.join(rooms)}" if rooms else "the CSV has no room column",
        )
    if room is None and len(rooms) > 1:
        raise ScheduleError(
            f"{request.schedule} has {len(rooms)} rooms: choose one with --room",
            hint=f"rooms: {', '.join(rooms)}",
        )
    rows = sheet.rows
    if rows[0].start is None and start is not None:
        first = replace(rows[0], start=start.astimezone(zone).time().replace(tzinfo=None))
        sheet = replace(sheet, rows=(first, *rows[1:]))
    talks = sheet.talks(date, zone, room)
    slots, speakers, warnings = build_timetable(talks)
    language = (
        request.language
        or head.get("language")
        or guess_language([t.title for t in talks] + [s.name for s in speakers])
    )
    return ImportedEvent(
        title=title,
        date=slots[0].start.date(),
        timezone=zone.key,
        slots=tuple(slots),
        speakers=tuple(speakers),
        url=head.get("url") or (connpass.url if connpass else ""),
        hashtag=head.get("hashtag") or (connpass.hashtag if connpass else ""),
        language=language if language in ("ja", "en") else "ja",
        source=request.schedule.name,
        notes=(f"imported from {request.schedule.name}", *_connpass_note(connpass), *warnings),
        connpass_event=connpass.id if connpass else None,
    )


def _connpass_note(connpass: ConnpassEvent | None) -> tuple[str, ...]:
    return (f"title, hashtag and page from connpass event {connpass.id}",) if connpass else ()


def _with_connpass(event: ImportedEvent, connpass: ConnpassEvent | None) -> ImportedEvent:
    if connpass is None:
        return event
    notes = [*event.notes, *_connpass_note(connpass)]
    if connpass.started_at is not None:
        day = connpass.started_at.astimezone(ZoneInfo(event.timezone)).date()
        if day != event.date:
            notes.append(f"connpass says the event is on {day}, the schedule on {event.date}")
    return replace(
        event,
        title=connpass.title or event.title,
        url=connpass.url or event.url,
        hashtag=connpass.hashtag or event.hashtag,
        notes=tuple(notes),
        connpass_event=connpass.id,
    )


def _from_connpass_only(connpass: ConnpassEvent, request: ImportRequest) -> ImportedEvent:
    """No timetable on connpass: an opening, one talk and a closing over its hours."""
    if connpass.started_at is None:
        raise ScheduleError(
            f"connpass event {connpass.id} has no start time", hint="give a schedule file too"
        )
    zone = _zone(request.timezone or _connpass_zone(connpass.started_at), "--timezone")
    start = connpass.started_at.astimezone(zone)
    end = connpass.ended_at.astimezone(zone) if connpass.ended_at else start + timedelta(hours=2)
    opening, closing = timedelta(minutes=5), timedelta(minutes=10)
    if end - start <= opening + closing + timedelta(minutes=5):
        end = start + timedelta(hours=2)
    slots = (
        ImportedSlot("opening", None, start, opening, anchored=True),
        ImportedSlot(
            "talk",
            None,
            start + opening,
            end - start - opening - closing,
            note="connpass has no timetable: put your talks here",
        ),
        ImportedSlot("closing", None, end - closing, closing),
    )
    return ImportedEvent(
        title=connpass.title or f"connpass event {connpass.id}",
        date=start.date(),
        timezone=zone.key,
        slots=slots,
        speakers=(),
        url=connpass.url,
        hashtag=connpass.hashtag,
        language=request.language or guess_language([connpass.title]),
        source=f"connpass event {connpass.id}",
        notes=(f"imported from connpass event {connpass.id} (its page has no timetable)",),
        connpass_event=connpass.id,
    )


def _with_options(event: ImportedEvent, request: ImportRequest) -> ImportedEvent:
    """The command line's --title, --hashtag, --url, --language over everything else."""
    hashtag = request.hashtag
    if hashtag is not None and hashtag and not hashtag.startswith("#"):
        hashtag = "#" + hashtag
    return replace(
        event,
        title=request.title or event.title,
        hashtag=event.hashtag if hashtag is None else hashtag,
        url=event.url if request.url is None else request.url,
        language=request.language or event.language,
    )


__all__ = ["FORMATS", "ImportRequest", "import_event", "schedule_format"]
