"""A hand-made timetable as CSV → talks, for meetups without pretalx.

```
# title: Machine Learning Casual Talks #21
# date: 2026-12-10
start,duration,kind,title,speakers,affiliation,handle
19:30,5m,opening,オープニング,,,
19:35,15m,talk,小さな LLM を手元で動かす,佐藤 花子,Example AI Lab,@hanako_ml
,5m,lt,Kaggle 初参加で学んだこと,小林 美咲;伊藤 翔,,@misaki_k;@sho_ito
```

Columns are found by their header name (any order, any case); `start`, `duration`,
`kind`, `title` and `speakers` are needed, `affiliation`, `handle`, `room` and
`do_not_record` may be there. An empty start is "when the previous row ends". Several
speakers are separated by `;` or `、` (their affiliations and handles likewise, in the same
order). Lines starting with `#` before the header may give `title`, `date`, `timezone`,
`hashtag`, `url` and `language` (`# key: value`); options on the command line win.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from showcaller.config.sections import SlotKind, parse_duration
from showcaller.interop.schedule import Person, ScheduleError, Talk, kind_from_word

REQUIRED = ("start", "duration", "kind", "title", "speakers")
OPTIONAL = ("affiliation", "handle", "room", "do_not_record")
HEADER_KEYS = ("title", "date", "timezone", "hashtag", "url", "language")
_SPLIT = re.compile(r"\s*[;、；]\s*")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TRUE = frozenset({"1", "true", "yes", "y", "x", "○", "◯", "はい"})


@dataclass(frozen=True)
class SheetRow:
    """One row of the sheet, its line number kept for messages."""

    line: int
    start: dt.time | None
    duration: timedelta
    kind: SlotKind
    title: str
    persons: tuple[Person, ...]
    room: str
    do_not_record: bool


@dataclass(frozen=True)
class Sheet:
    """The rows of a CSV timetable and the `# key: value` lines before its header."""

    path: Path
    rows: tuple[SheetRow, ...]
    header: Mapping[str, str] = field(default_factory=dict)

    def rooms(self) -> list[str]:
        """The rooms named in a `room` column, in order (empty: no such column)."""
        return list(dict.fromkeys(r.room for r in self.rows if r.room))

    def talks(self, date: dt.date, zone: ZoneInfo, room: str | None) -> list[Talk]:
        """The rows (of `room`, if given) as talks on `date`; ScheduleError for a row
        without a start whose previous row is missing."""
        rows = [r for r in self.rows if room is None or r.room == room]
        talks: list[Talk] = []
        day = date
        for row in rows:
            if row.start is not None:
                start = datetime.combine(day, row.start, tzinfo=zone)
                if talks and start < talks[-1].start:
                    # An earlier clock time than the row before: after midnight.
                    start += timedelta(days=1)
                    day = start.date()
            elif talks:
                start = talks[-1].end
            else:
                raise ScheduleError(
                    f"{self.path}:{row.line}: start: the first row needs a start time (HH:MM)"
                )
            talks.append(
                Talk(row.title, start, row.duration, row.kind, row.persons, row.do_not_record)
            )
        return talks


def read_sheet(path: Path) -> Sheet:
    """Read a CSV timetable; ScheduleError names the line and column of the first problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScheduleError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScheduleError(
            f"{path}: cannot read the file: {reason}", hint="save the CSV as UTF-8"
        ) from None
    lines = text.splitlines()
    header: dict[str, str] = {}
    first = 0
    while first < len(lines) and (
        lines[first].lstrip().startswith("#") or not lines[first].strip()
    ):
        key, sep, value = lines[first].lstrip().lstrip("#").partition(":")
        if sep and key.strip().casefold() in HEADER_KEYS:
            header[key.strip().casefold()] = value.strip()
        first += 1
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    try:
        names = [n.strip().casefold() for n in next(reader)]
    except StopIteration:
        raise ScheduleError(f"{path}: no header line ({','.join(REQUIRED)})") from None
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise ScheduleError(
            f"{path}:{first + 1}: the header has no column {', '.join(missing)}",
            hint=f"the first line after the # lines names the columns: {','.join(REQUIRED)}",
        )
    column = {n: names.index(n) for n in (*REQUIRED, *OPTIONAL) if n in names}
    rows: list[SheetRow] = []
    for number, cells in enumerate(reader, start=first + 2):
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        rows.append(_row(path, number, cells, column))
    if not rows:
        raise ScheduleError(f"{path}: the timetable has no rows under its header")
    return Sheet(path, tuple(rows), header)


def _cell(cells: Sequence[str], column: Mapping[str, int], name: str) -> str:
    index = column.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row(path: Path, line: int, cells: Sequence[str], column: Mapping[str, int]) -> SheetRow:
    where = f"{path}:{line}"
    start_text = _cell(cells, column, "start")
    start: dt.time | None = None
    if start_text:
        match = _CLOCK.fullmatch(start_text)
        hour, minute, second = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ScheduleError(f"{where}: start: bad time {start_text!r} (expected HH:MM)")
        start = dt.time(hour, minute, second)
    duration = _sheet_duration(where, _cell(cells, column, "duration"))
    kind_text = _cell(cells, column, "kind")
    title = _cell(cells, column, "title")
    kind = kind_from_word(kind_text) if kind_text else None
    if kind is None:
        raise ScheduleError(
            f"{where}: kind: unknown kind {kind_text!r}",
            hint="one of standby, opening, talk, lt, qa, break, closing",
        )
    names = [n for n in _SPLIT.split(_cell(cells, column, "speakers")) if n]
    affiliations = _SPLIT.split(_cell(cells, column, "affiliation"))
    handles = _SPLIT.split(_cell(cells, column, "handle"))
    persons = tuple(
        Person(
            f"name:{name}",
            name,
            _nth(affiliations, i, len(names)),
            _nth(handles, i, len(names)),
        )
        for i, name in enumerate(names)
    )
    return SheetRow(
        line,
        start,
        duration,
        kind,
        title,
        persons,
        _cell(cells, column, "room"),
        _cell(cells, column, "do_not_record").casefold() in _TRUE,
    )


def _nth(values: Sequence[str], i: int, count: int) -> str:
    """The i-th of `;`-separated values; one value for several speakers is everyone's."""
    if len(values) == 1 and count > 1:
        return values[0]
    return values[i] if i < len(values) else ""


def _sheet_duration(where: str, text: str) -> timedelta:
    """`20m`, `1h10m`, `20` (minutes), `0:20` or `00:20:00` → a timedelta longer than 0."""
    value: timedelta | None = None
    if text.isdigit():
        value = timedelta(minutes=int(text))
    elif re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
        parts = [int(p) for p in text.split(":")] + [0]
        value = timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
    else:
        try:
            value = parse_duration(text)
        except (ValueError, OverflowError):
            value = None
    if value is None or value <= timedelta(0):
        raise ScheduleError(
            f"{where}: duration: bad duration {text!r}",
            hint='write minutes ("20"), "20m", "1h10m" or "0:20"',
        )
    return value


__all__ = ["Sheet", "SheetRow", "read_sheet"]
