"""frab / pretalx `schedule.json` (the C3VOC schema) → the talks of one room on one day.

The schedule's days are the conference's days (a frab day may run past midnight, until
its `day_end`); `--day` picks one by its number or its date, `--room` one room. Each
entry's `date` carries its UTC offset, which is the truth about when it happens: the
event's time zone is `time_zone_name` when that zone has this offset then, else a zone
that has (an entry at +09:00 stays at its local time).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from showcaller.interop.schedule import (
    ImportedEvent,
    Person,
    ScheduleError,
    Talk,
    build_timetable,
    guess_language,
    slot_kind,
)
from showcaller.nearnames import fold, nearest


@dataclass(frozen=True)
class Day:
    """One conference day: its number (1-based, as the schedule counts) and date."""

    index: int
    date: dt.date
    rooms: Mapping[str, Sequence[Mapping[str, Any]]]

    def talks_in(self, room: str | None) -> int:
        """How many entries this day has in `room` (None: in every room)."""
        if room is None:
            return sum(len(v) for v in self.rooms.values())
        return len(self.rooms.get(room, ()))


def read_schedule_json(path: Path) -> Mapping[str, Any]:
    """The `conference` object of a schedule.json; ScheduleError when it is not one."""
    data = _read_json(path)
    schedule = data.get("schedule") if isinstance(data, dict) else None
    conference = schedule.get("conference") if isinstance(schedule, dict) else None
    if not isinstance(conference, dict) or not isinstance(conference.get("days"), list):
        raise ScheduleError(
            f"{path}: not a frab/pretalx schedule.json (no schedule.conference.days)",
            hint="export the schedule as JSON from pretalx or frab, or use --format csv",
        )
    return conference


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScheduleError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScheduleError(f"{path}: cannot read the file: {reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError(
            f"{path}:{exc.lineno}: broken JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except RecursionError:
        raise ScheduleError(f"{path}: broken JSON: nested too deeply") from None


def import_schedule(
    path: Path, *, room: str | None, day: str | None, language: str | None = None
) -> ImportedEvent:
    """One room, one day of a frab/pretalx schedule as an event; ScheduleError says why not."""
    conference = read_schedule_json(path)
    days = _days(path, conference)
    rooms = _rooms(conference, days)
    chosen_room = _choose_room(path, rooms, room, days)
    chosen_day = _choose_day(path, days, day, chosen_room)
    entries = chosen_day.rooms.get(chosen_room, ())
    if not entries:
        raise ScheduleError(
            f"{path}: room {chosen_room!r} has nothing on day {chosen_day.index} "
            f"({chosen_day.date})",
            hint=_day_list(days, chosen_room),
        )
    zone, zone_note = _zone(conference, entries, path)
    talks = [_talk(path, entry, zone, chosen_day, n) for n, entry in enumerate(entries)]
    slots, speakers, warnings = build_timetable(talks)
    title = _text(conference, "title") or path.stem
    days_count = len(days)
    where = f"room {chosen_room!r}"
    if days_count > 1:
        where += f", day {chosen_day.index} of {days_count}"
    notes = [f"imported from {path.name} ({where})"]
    if zone_note:
        notes.append(zone_note)
    notes += warnings
    lang = language or guess_language([t.title for t in talks] + [s.name for s in speakers])
    return ImportedEvent(
        title=title,
        date=slots[0].start.date(),
        timezone=zone.key,
        slots=tuple(slots),
        speakers=tuple(speakers),
        url=_text(conference, "url") or "",
        language=lang,
        source=path.name,
        notes=tuple(notes),
    )


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) else ""


def _days(path: Path, conference: Mapping[str, Any]) -> list[Day]:
    days: list[Day] = []
    for n, raw in enumerate(conference["days"]):
        if not isinstance(raw, dict):
            raise ScheduleError(f"{path}: schedule.conference.days[{n}] is not an object")
        try:
            date = dt.date.fromisoformat(str(raw.get("date")))
        except ValueError:
            raise ScheduleError(
                f"{path}: schedule.conference.days[{n}].date: expected a date like 2026-12-10"
            ) from None
        rooms = raw.get("rooms") or {}
        if not isinstance(rooms, dict) or not all(isinstance(v, list) for v in rooms.values()):
            raise ScheduleError(
                f"{path}: schedule.conference.days[{n}].rooms is not an object of lists"
            )
        index = raw.get("index")
        days.append(Day(index if isinstance(index, int) else n + 1, date, rooms))
    if not days:
        raise ScheduleError(f"{path}: the schedule has no days")
    return days


def _rooms(conference: Mapping[str, Any], days: Sequence[Day]) -> list[str]:
    """Rooms in the schedule's own order (its `rooms` list first, then as the days name them)."""
    names: list[str] = []
    for room in conference.get("rooms") or []:
        if isinstance(room, dict) and isinstance(room.get("name"), str):
            names.append(room["name"])
    for day in days:
        names += list(day.rooms)
    return [n for n in dict.fromkeys(names) if any(day.rooms.get(n) for day in days)]


def _count(days: Sequence[Day], room: str) -> int:
    return sum(day.talks_in(room) for day in days)


def _room_list(days: Sequence[Day], rooms: Sequence[str]) -> str:
    return "rooms: " + ", ".join(f"--room {_quoted(r)} ({_count(days, r)} talks)" for r in rooms)


def _quoted(text: str) -> str:
    return f"'{text}'" if any(c in text for c in ' "&;|()<>$`\\') else text


def _choose_room(path: Path, rooms: list[str], room: str | None, days: Sequence[Day]) -> str:
    if not rooms:
        raise ScheduleError(f"{path}: the schedule has no talks in any room")
    if room is None:
        if len(rooms) == 1:
            return rooms[0]
        raise ScheduleError(
            f"{path} has {len(rooms)} rooms: choose one with --room (one show per room)",
            hint=_room_list(days, rooms),
        )
    if room in rooms:
        return room
    # Compared as scene names are (nearnames): case, full/half width and spaces do not
    # matter; a typo gets "did you mean …?".
    same = [r for r in rooms if fold(r) == fold(room)]
    if len(same) == 1:
        return same[0]
    close = nearest(room, rooms)
    also = f"did you mean {close!r}? " if close else ""
    raise ScheduleError(
        f"{path}: no room {room!r} in the schedule", hint=also + _room_list(days, rooms)
    )


def _day_list(days: Sequence[Day], room: str) -> str:
    return "days: " + ", ".join(
        f"--day {d.index} ({d.date}, {d.talks_in(room)} talks)" for d in days if d.talks_in(room)
    )


def _choose_day(path: Path, days: list[Day], day: str | None, room: str) -> Day:
    with_talks = [d for d in days if d.talks_in(room)]
    if day is None:
        if len(with_talks) == 1:
            return with_talks[0]
        raise ScheduleError(
            f"{path}: room {room!r} has talks on {len(with_talks)} days; an event file is "
            "one show: choose the day with --day N or --day YYYY-MM-DD",
            hint=_day_list(days, room),
        )
    for d in days:
        if (day.isdigit() and int(day) == d.index) or day == d.date.isoformat():
            return d
    raise ScheduleError(f"{path}: no day {day!r} in the schedule", hint=_day_list(days, room))


def _entry_start(entry: Mapping[str, Any]) -> datetime | None:
    try:
        start = datetime.fromisoformat(str(entry.get("date")))
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


def _zone(
    conference: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], path: Path
) -> tuple[ZoneInfo, str]:
    """The event's zone: `time_zone_name` if it agrees with the entries' offsets, else one
    that does; the note says when the schedule's own zone was not used."""
    moments = [m for m in map(_entry_start, entries) if m is not None]
    name = _text(conference, "time_zone_name")
    zone: ZoneInfo | None = None
    try:
        zone = ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is not None and all(m.utcoffset() == m.astimezone(zone).utcoffset() for m in moments):
        return zone, ""
    if not moments:
        return zone or ZoneInfo("UTC"), ""
    offset = moments[0].utcoffset() or timedelta(0)
    found = _zone_with_offset(offset, moments)
    said = f"time_zone_name {name!r}" if name else "no time_zone_name"
    return found, (
        f"the schedule says {said}, but its talks are at UTC{_offset_text(offset)}: "
        f"timezone {found.key!r} keeps their local times; set your own zone if you know it"
    )


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_with_offset(offset: timedelta, moments: Sequence[datetime]) -> ZoneInfo:
    minutes = int(offset.total_seconds() // 60)
    if minutes % 60 == 0 and abs(minutes) <= 12 * 60:
        hours = minutes // 60
        # POSIX sign: Etc/GMT-9 is UTC+09:00.
        return ZoneInfo("Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}")
    for key in sorted(available_timezones()):
        try:
            zone = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if all(m.astimezone(zone).utcoffset() == m.utcoffset() for m in moments):
            return zone
    return ZoneInfo("UTC")


def _duration(text: object) -> timedelta | None:
    """frab's `HH:MM` (or `HH:MM:SS`, or `D:HH:MM`) → a timedelta."""
    parts = str(text).split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    if len(numbers) == 2:
        return timedelta(hours=numbers[0], minutes=numbers[1])
    return timedelta(hours=numbers[0], minutes=numbers[1], seconds=numbers[2])


def _persons(entry: Mapping[str, Any]) -> tuple[Person, ...]:
    persons: list[Person] = []
    for raw in entry.get("persons") or []:
        if not isinstance(raw, dict):
            continue
        name = next(
            (
                raw[k].strip()
                for k in ("public_name", "name", "full_public_name")
                if isinstance(raw.get(k), str) and raw[k].strip()
            ),
            "",
        )
        if not name:
            continue
        # pretalx says who is who by `code`, frab by `id`; the name when neither is there.
        code = raw.get("code") or raw.get("guid") or raw.get("id")
        key = f"id:{code}" if code not in (None, "") else f"name:{name}"
        persons.append(Person(key, name))
    return tuple(persons)


def _talk(path: Path, entry: Mapping[str, Any], zone: ZoneInfo, day: Day, n: int) -> Talk:
    title = _text(entry, "title")
    where = f"{path}: day {day.index}, {_text(entry, 'room') or 'room'}, entry {n + 1}"
    if title:
        where += f" {title!r}"
    start = _entry_start(entry)
    if start is None:
        raise ScheduleError(f"{where}: date {entry.get('date')!r} is not a time with a UTC offset")
    duration = _duration(entry.get("duration"))
    if duration is None or duration <= timedelta(0):
        raise ScheduleError(f"{where}: duration {entry.get('duration')!r}: expected HH:MM")
    persons = _persons(entry)
    return Talk(
        title=title,
        start=start.astimezone(zone),
        duration=duration,
        kind=slot_kind(_text(entry, "type"), title, duration, has_speakers=bool(persons)),
        persons=persons,
        do_not_record=entry.get("do_not_record") is True,
        url=_text(entry, "url"),
    )


__all__ = ["Day", "import_schedule", "read_schedule_json"]
