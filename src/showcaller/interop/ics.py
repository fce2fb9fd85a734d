"""The plan as iCalendar (RFC 5545), one VEVENT per slot, for the speakers' calendars.

Times carry the event's zone (`TZID=Asia/Tokyo`) with a VTIMEZONE that gives its offset
over the show, so a calendar that knows the zone by name uses its own rules and one that
does not still puts every slot at the right moment; a show during which the zone changes
its offset (a DST night) is written in UTC instead. UIDs are stable per event and slot
number, so importing the file again updates the entries rather than doubling them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from showcaller.config import EventConfig, ResolvedSlot
from showcaller.words import in_room

PRODID = "-//showcaller//showcaller//EN"
_MAX_OCTETS = 75
# A TEXT escape (`\,`) folds as one piece: Google Calendar drops an event whose fold falls
# between the backslash and its character (icalendar issue #1501; docs/libraries.md).
_FOLD_UNITS = re.compile(r"\\.|.", re.DOTALL)


def escape_text(text: str) -> str:
    r"""RFC 5545 TEXT: `\`, `;`, `,` escaped, newlines as `\n`, other controls dropped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(c for c in text if c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F))


def fold(line: str) -> str:
    """One content line folded at 75 octets (never inside a character or an escape), CRLF ended."""
    data = line.encode()
    if len(data) <= _MAX_OCTETS:
        return line + "\r\n"
    pieces: list[str] = []
    chars: list[str] = []
    size = 0
    limit = _MAX_OCTETS
    for unit in _FOLD_UNITS.findall(line):
        width = len(unit.encode())
        if size + width > limit:
            pieces.append("".join(chars))
            chars, size = [], 0
            limit = _MAX_OCTETS - 1  # continuation lines start with one space
        chars.append(unit)
        size += width
    pieces.append("".join(chars))
    return "\r\n ".join(pieces) + "\r\n"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def slot_uid(cfg: EventConfig, slot: ResolvedSlot) -> str:
    """A UID that stays the same for this event (title and date) and slot number."""
    seed = f"{cfg.event.title}\n{cfg.event.date.isoformat()}".encode()
    digest = hashlib.sha256(seed).hexdigest()[:16]
    return f"{digest}-slot{slot.index + 1}@showcaller"


def _summary(slot: ResolvedSlot) -> str:
    names = ", ".join(s.name for s in slot.speakers)
    return f"{slot.title} — {names}" if names else slot.title


def _description(cfg: EventConfig, slot: ResolvedSlot) -> str:
    lines = [in_room(cfg.event.title, cfg.event.room)]
    for sp in slot.speakers:
        extra = ", ".join(x for x in (sp.affiliation, sp.handle) if x)
        lines.append(f"{sp.name} ({extra})" if extra else sp.name)
    if cfg.event.hashtag:
        lines.append(cfg.event.hashtag)
    if cfg.event.url:
        lines.append(cfg.event.url)
    return "\n".join(lines)


def calendar(cfg: EventConfig, stamp: datetime) -> str:
    """The iCalendar text of the event's plan; `stamp` (the time of export) is DTSTAMP."""
    slots = cfg.slots_resolved()
    tz = cfg.tz
    offsets = {s.start.astimezone(tz).utcoffset() for s in slots}
    offsets |= {s.end.astimezone(tz).utcoffset() for s in slots}
    zoned = len(offsets) == 1
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(in_room(cfg.event.title, cfg.event.room))}",
        f"X-WR-TIMEZONE:{cfg.event.timezone}",
    ]
    if zoned:
        offset = _offset(next(iter(offsets)))
        begin = slots[0].start.astimezone(tz) - timedelta(days=1)
        lines += [
            "BEGIN:VTIMEZONE",
            f"TZID:{cfg.event.timezone}",
            "BEGIN:STANDARD",
            f"DTSTART:{_local(begin.replace(hour=0, minute=0, second=0))}",
            f"TZNAME:{escape_text(begin.tzname() or cfg.event.timezone)}",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
    for slot in slots:
        if zoned:
            start = f"DTSTART;TZID={cfg.event.timezone}:{_local(slot.start.astimezone(tz))}"
            end = f"DTEND;TZID={cfg.event.timezone}:{_local(slot.end.astimezone(tz))}"
        else:
            start, end = f"DTSTART:{_utc(slot.start)}", f"DTEND:{_utc(slot.end)}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{slot_uid(cfg, slot)}",
            f"DTSTAMP:{_utc(stamp)}",
            start,
            end,
            f"SUMMARY:{escape_text(_summary(slot))}",
            f"DESCRIPTION:{escape_text(_description(cfg, slot))}",
            f"CATEGORIES:{escape_text(slot.kind)}",
        ]
        if cfg.event.url:
            lines.append("URL:" + "".join(c for c in cfg.event.url if c.isprintable()))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


__all__ = ["calendar", "escape_text", "fold", "slot_uid"]
