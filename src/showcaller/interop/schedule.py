"""An imported timetable, before it becomes an event file: slots, speakers, the event.

Pure: the readers (`frab.py` for frab/pretalx `schedule.json`, `sheet.py` for CSV) build
talks, and `build_timetable` turns one room's talks into slots — kinds worked out, gaps
between talks made breaks, the same person in two talks one speaker.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from showcaller.config.sections import SLOT_KINDS, SlotKind
from showcaller.errors import UsageError


class ScheduleError(UsageError):
    """The schedule cannot be imported (missing, unreadable, no such room or day): exit 2."""


@dataclass(frozen=True)
class Person:
    """Someone on a talk, as the schedule names them; `key` says who is who across talks."""

    key: str
    name: str
    affiliation: str = ""
    handle: str = ""


@dataclass(frozen=True)
class Talk:
    """One entry of the schedule in the chosen room: a talk, a break, an opening …"""

    title: str
    start: datetime  # aware, the event's time zone
    duration: timedelta
    kind: SlotKind
    persons: tuple[Person, ...] = ()
    do_not_record: bool = False
    url: str = ""

    @property
    def end(self) -> datetime:
        """When it ends."""
        return self.start + self.duration


@dataclass(frozen=True)
class ImportedSpeaker:
    """A [[speakers]] table to write."""

    id: str
    name: str
    affiliation: str = ""
    handle: str = ""


@dataclass(frozen=True)
class ImportedSlot:
    """A [[timetable.slots]] table to write; `start` is always known here."""

    kind: SlotKind
    title: str | None
    start: datetime
    duration: timedelta | None
    speakers: tuple[str, ...] = ()
    do_not_record: bool = False
    anchored: bool = False  # write its start (the first slot, and the one after a break)
    note: str = ""


@dataclass(frozen=True)
class ImportedEvent:
    """What an import found: the [event] table, the slots, the speakers, and notes."""

    title: str
    date: dt.date
    timezone: str
    slots: tuple[ImportedSlot, ...]
    speakers: tuple[ImportedSpeaker, ...]
    url: str = ""
    hashtag: str = ""
    language: str = "ja"
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    connpass_event: int | None = None

    @property
    def crosses_midnight(self) -> bool:
        """Whether a slot starts on a later calendar day than the event's date."""
        return any(s.start.date() > self.date for s in self.slots)


# ---------------------------------------------------------------------------------------
# Slot kinds from a schedule's type, title and duration.

_KIND_WORDS: tuple[tuple[SlotKind, re.Pattern[str]], ...] = (
    ("lt", re.compile(r"lightning|\blt\b|ライトニング", re.IGNORECASE)),
    ("break", re.compile(r"\bbreak\b|\bpause\b|lunch|coffee|休憩|昼食|ランチ", re.IGNORECASE)),
    ("opening", re.compile(r"opening|welcome|開会|オープニング|はじめに", re.IGNORECASE)),
    ("closing", re.compile(r"closing|farewell|閉会|クロージング|おわりに", re.IGNORECASE)),
    ("qa", re.compile(r"^\s*(q\s*&\s*a|q\s*and\s*a|qa|質疑(応答)?)\s*$", re.IGNORECASE)),
    ("standby", re.compile(r"^\s*(standby|stand-by|開始前|まもなく開始)\s*$", re.IGNORECASE)),
)
_KINDS: frozenset[str] = frozenset(SLOT_KINDS)
LT_LONGEST = timedelta(minutes=10)


def kind_from_word(word: str) -> SlotKind | None:
    """A slot kind from a word as people write it (`talk`, `LT`, `Lightning Talk`, `休憩`)."""
    text = word.strip().casefold()
    if text in _KINDS:
        return text  # type: ignore[return-value]  # checked against the kinds just above
    for kind, pattern in _KIND_WORDS:
        if pattern.search(text):
            return kind
    if text in ("lecture", "talk", "keynote", "workshop", "panel", "presentation", "発表"):
        return "talk"
    return None


def slot_kind(
    type_name: str, title: str, duration: timedelta, *, has_speakers: bool = False
) -> SlotKind:
    """The kind of a schedule entry: its type first, then its title, then its length.

    A `Talk`/`lecture` of 10 minutes or less is a lightning talk; an entry without
    speakers whose title says "Opening", "Lunch break", "休憩" … is that, whatever its
    type (a talk with a speaker stays a talk, whatever its title says, unless it is an LT).
    """
    by_type = kind_from_word(type_name) if type_name else None
    if by_type not in (None, "talk"):
        return by_type
    by_title = kind_from_word(title)
    if by_title == "lt" or (by_title not in (None, "talk") and not has_speakers):
        return by_title
    if duration <= LT_LONGEST:
        return "lt"
    return "talk"


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def guess_language(texts: Iterable[str]) -> str:
    """ "ja" when any title or name is written in Japanese, else "en"."""
    return "ja" if any(_JAPANESE.search(t) for t in texts) else "en"


# ---------------------------------------------------------------------------------------
# Talks → slots and speakers.


def speaker_ids(persons: Iterable[Person]) -> dict[str, ImportedSpeaker]:
    """One speaker per person key, with a short readable id, unique: from the name
    (`brian-robinson`), else the handle (`hanako-ml`), else the schedule's code, else
    `speaker`."""
    speakers: dict[str, ImportedSpeaker] = {}
    taken: set[str] = set()
    for person in persons:
        if person.key in speakers:
            continue
        code = person.key[3:] if person.key.startswith("id:") else ""
        base = _slug(person.name) or _slug(person.handle) or _slug(code) or "speaker"
        ident, n = base, 2
        while ident in taken:
            ident, n = f"{base}-{n}", n + 1
        taken.add(ident)
        speakers[person.key] = ImportedSpeaker(
            ident, person.name, person.affiliation, person.handle
        )
    return speakers


def _slug(text: str) -> str:
    """ASCII letters and digits joined by '-' (`Jürgen Müller` → `jurgen-muller`); may be ''."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.casefold())
    return "-".join(words)[:40].strip("-")


def build_timetable(
    talks: Sequence[Talk], *, fill_gaps: bool = True
) -> tuple[list[ImportedSlot], list[ImportedSpeaker], list[str]]:
    """One room's talks (in any order) → slots with breaks in the gaps, speakers, warnings.

    A talk that starts before the previous one ends is shortened to fit (with a warning):
    one room shows one thing at a time.
    """
    ordered = sorted(talks, key=lambda t: t.start)
    warnings: list[str] = []
    fitted: list[Talk] = []
    for talk in ordered:
        if fitted and talk.start < fitted[-1].end:
            before = fitted[-1]
            if talk.start <= before.start:
                warnings.append(
                    f"{talk.title!r} starts with {before.title!r} at "
                    f"{talk.start:%H:%M}: left out (one room shows one thing at a time)"
                )
                continue
            warnings.append(
                f"{before.title!r} runs until {before.end:%H:%M}, past the start of "
                f"{talk.title!r} at {talk.start:%H:%M}: shortened to fit"
            )
            fitted[-1] = replace(before, duration=talk.start - before.start)
        fitted.append(talk)
    speakers = speaker_ids(p for t in fitted for p in t.persons)
    slots: list[ImportedSlot] = []
    after_break = True
    for i, talk in enumerate(fitted):
        if i and fill_gaps and talk.start > fitted[i - 1].end:
            gap_start = fitted[i - 1].end
            slots.append(
                ImportedSlot("break", None, gap_start, talk.start - gap_start, note="a gap")
            )
            after_break = True
        slots.append(
            ImportedSlot(
                kind=talk.kind,
                title=talk.title or None,
                start=talk.start,
                duration=talk.duration,
                speakers=tuple(dict.fromkeys(speakers[p.key].id for p in talk.persons)),
                do_not_record=talk.do_not_record,
                anchored=after_break or (i > 0 and talk.start != fitted[i - 1].end),
            )
        )
        after_break = talk.kind == "break"
    return slots, list(speakers.values()), warnings


__all__ = [
    "ImportedEvent",
    "ImportedSlot",
    "ImportedSpeaker",
    "Person",
    "ScheduleError",
    "Talk",
    "build_timetable",
    "guess_language",
    "kind_from_word",
    "slot_kind",
    "speaker_ids",
]
