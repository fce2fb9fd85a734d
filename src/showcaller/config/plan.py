"""The plan: every slot's start, end, speakers and scene worked out, and what is wrong.

`resolve_slots` runs on whatever sections validated (None for a part that did not), so
one run of `load_config` lists the plan's problems alongside the field problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from showcaller.config.sections import (
    EndMode,
    Event,
    Scenes,
    Slot,
    SlotKind,
    Speaker,
    Timetable,
    format_duration,
)
from showcaller.config.tomlpos import Path as KeyPath
from showcaller.config.tomlpos import format_path
from showcaller.errors import ConfigProblem
from showcaller.nearnames import nearest

# The default title of a slot, by event.language; also names the kind in the terminal.
KIND_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "standby": "Standby",
        "opening": "Opening",
        "talk": "Talk",
        "lt": "Lightning Talk",
        "qa": "Q&A",
        "break": "Break",
        "closing": "Closing",
    },
    "ja": {
        "standby": "開始前",
        "opening": "オープニング",
        "talk": "発表",
        "lt": "LT",
        "qa": "質疑応答",
        "break": "休憩",
        "closing": "クロージング",
    },
}


@dataclass(frozen=True)
class ResolvedSlot:
    """A slot with its times, speakers and scene worked out (aware datetimes, event zone)."""

    index: int
    kind: SlotKind
    title: str
    speakers: list[Speaker]
    start: datetime
    end: datetime
    scene: str
    end_mode: EndMode
    grace_s: int
    min_s: float | None
    do_not_record: bool = False

    @property
    def duration(self) -> timedelta:
        """Planned length."""
        return self.end - self.start


class PlanIssue(NamedTuple):
    """A problem found by the plan checks, before it has a file and line.

    `other`: a second place the message names (the first copy of a duplicate), whose
    line is added to the message once the file is known.
    """

    loc: KeyPath
    message: str
    hint: str = ""
    other: KeyPath | None = None

    def problem(self, file: str, line: int | None, other_line: int | None = None) -> ConfigProblem:
        message = self.message
        if self.other is not None:
            where = format_path(self.other) + (f" on line {other_line}" if other_line else "")
            message = message.replace("{other}", where)
        return ConfigProblem(file, line, format_path(self.loc), message, self.hint)


def slot_label(kind: object, title: object) -> str:
    """How a slot is named in a message: `talk "Scaling laws"`, or just `qa`."""
    kind_text = kind if isinstance(kind, str) else "slot"
    return f'{kind_text} "{title}"' if isinstance(title, str) and title else kind_text


def _slot_loc(index: int, *rest: str | int) -> KeyPath:
    return ("timetable", "slots", index, *rest)


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _plus(moment: datetime, length: timedelta) -> datetime | None:
    """Elapsed-time addition (through UTC), so a DST change cannot stretch a slot.

    None when the sum, or `moment` itself in UTC, falls outside the years 1 to 9999.
    """
    try:
        return (moment.astimezone(UTC) + length).astimezone(moment.tzinfo)
    except OverflowError:
        return None


def resolve_slots(
    event: Event | None,
    scenes: Scenes | None,
    speakers: Sequence[Speaker | None],
    slots: Sequence[Slot | None] | None,
    known_ids: set[str],
    timetable: Timetable,
) -> tuple[list[ResolvedSlot], list[PlanIssue]]:
    """Resolve the slots; the parts that are None failed field validation and are skipped."""
    issues: list[PlanIssue] = []
    by_id: dict[str, tuple[int, Speaker]] = {}
    for j, speaker in enumerate(speakers):
        if speaker is None:
            continue
        if speaker.id in by_id:
            first = by_id[speaker.id][0]
            issues.append(
                PlanIssue(
                    ("speakers", j, "id"),
                    f"duplicate speaker id {speaker.id!r}",
                    f"speakers[{first}] has it already; ids must be unique",
                )
            )
        else:
            by_id[speaker.id] = (j, speaker)
    if slots is None:
        return [], issues
    if not slots:
        issues.append(
            PlanIssue(
                ("timetable", "slots"),
                "the timetable is empty",
                "add a [[timetable.slots]] table for every part of the show",
            )
        )
        return [], issues

    labels = [slot_label(s.kind, s.title) if s else "slot" for s in slots]
    known = ", ".join(sorted(known_ids)) or "none: add [[speakers]] tables"
    copies = _copies(slots)
    for i, slot in enumerate(slots):
        if slot is None:
            continue
        if i in copies:
            issues.append(
                PlanIssue(
                    _slot_loc(i),
                    f"{labels[i]}: the same slot as {{other}} (same kind, title and speakers)",
                    "a block pasted twice? delete one of the two",
                    other=_slot_loc(copies[i]),
                )
            )
        for k, speaker_id in enumerate(slot.speakers):
            if speaker_id not in known_ids:
                meant = nearest(speaker_id, known_ids)
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "speakers", k),
                        f"{labels[i]}: unknown speaker {speaker_id!r}",
                        f"did you mean {meant!r}? known speaker ids: {known}"
                        if meant
                        else f"known speaker ids: {known}",
                    )
                )
        if scenes is not None and slot.scene is None and scenes.scene_for(slot.kind) is None:
            issues.append(
                PlanIssue(
                    _slot_loc(i, "scene"),
                    f"{labels[i]}: no OBS scene: scenes.{slot.kind} is not set",
                    f'set scenes.{slot.kind} = "...", or scene = "..." on this slot',
                )
            )
        if slot.min is not None and slot.kind not in ("break", "qa"):
            issues.append(
                PlanIssue(
                    _slot_loc(i, "min"),
                    f"{labels[i]}: only break and qa slots can be squeezed",
                    "remove min from this slot",
                )
            )
        elif slot.min is not None and slot.duration is not None and slot.min > slot.duration:
            issues.append(
                PlanIssue(
                    _slot_loc(i, "min"),
                    f"{labels[i]}: min {format_duration(slot.min)} is longer than the slot "
                    f"({format_duration(slot.duration)})",
                )
            )
    if event is None:
        return [], issues

    timing: list[PlanIssue] = []
    starts = _starts(event, slots, labels, timing)
    ends = _ends(slots, starts, labels, timing)
    # A pasted copy also overlaps what follows it, or is out of order: the duplicate is
    # the one thing to fix, so what the copy's times cause is not said on top of it.
    issues += [t for t in timing if not _caused_by(t, copies)]
    # A speaker that failed validation has a problem of its own, and its id still counts
    # as known so that its slots add none; but there is no Speaker to put on those slots.
    if issues or any(speaker is None for speaker in speakers):
        return [], issues

    language = event.language
    resolved: list[ResolvedSlot] = []
    for i, slot in enumerate(slots):
        start, end = starts[i], ends[i]
        # No issues means every slot validated and has both times.
        if slot is None or start is None or end is None or scenes is None:
            return [], issues
        resolved.append(
            ResolvedSlot(
                index=i,
                kind=slot.kind,
                title=slot.title or KIND_TITLES[language][slot.kind],
                speakers=[by_id[s][1] for s in slot.speakers],
                start=start,
                end=end,
                scene=slot.scene or scenes.scene_for(slot.kind) or "",
                end_mode="grace" if isinstance(slot.end, int) else slot.end,
                grace_s=slot.end if isinstance(slot.end, int) else 0,
                min_s=_min_seconds(slot, timetable, end - start),
                do_not_record=slot.do_not_record,
            )
        )
    return resolved, issues


def _copies(slots: Sequence[Slot | None]) -> dict[int, int]:
    """Slots that repeat an earlier one (same kind, title and speakers) → that one's index.

    Only slots that say who or what they are count: two untitled breaks are two breaks.
    """
    first: dict[tuple[str, str, tuple[str, ...]], int] = {}
    copies: dict[int, int] = {}
    for i, slot in enumerate(slots):
        if slot is None or not (slot.title or slot.speakers):
            continue
        key = (slot.kind, slot.title or "", tuple(slot.speakers))
        if key in first:
            copies[i] = first[key]
        else:
            first[key] = i
    return copies


def _caused_by(issue: PlanIssue, copies: dict[int, int]) -> bool:
    """A timing issue at a copy, or one that names a copy as the slot in the way."""
    for i in copies:
        if issue.loc[:3] == _slot_loc(i) or f"(timetable.slots[{i}])" in issue.message:
            return True
    return False


def _min_seconds(slot: Slot, timetable: Timetable, length: timedelta) -> float | None:
    if slot.kind not in ("break", "qa"):
        return None
    if slot.min is not None:
        return slot.min.total_seconds()
    default = timetable.break_min if slot.kind == "break" else timetable.qa_min
    # A default longer than the slot itself would make the slot grow; it can only shrink.
    return min(default, length).total_seconds()


def _starts(
    event: Event, slots: Sequence[Slot | None], labels: list[str], issues: list[PlanIssue]
) -> list[datetime | None]:
    tz = ZoneInfo(event.timezone)
    starts: list[datetime | None] = []
    last: tuple[int, datetime] | None = None  # the latest slot whose start is known
    for i, slot in enumerate(slots):
        start: datetime | None = None
        previous = slots[i - 1] if i else None
        previous_start = starts[i - 1] if i else None
        if slot is None:
            pass
        elif slot.start is not None:
            day = last[1].date() if last else event.date
            start = datetime.combine(day, slot.start, tzinfo=tz)
            if last is not None and start < last[1]:
                start = _earlier_start(event, i, start, last, labels, issues)
            # At the very ends of the calendar a local time may have no UTC time.
            if _plus(start, timedelta(0)) is None:
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: starts outside the years 1 to 9999 (in UTC)",
                        "check event.date",
                    )
                )
                start = None
        elif i == 0:
            issues.append(
                PlanIssue(
                    _slot_loc(0, "start"),
                    f"{labels[0]}: the first slot needs a start time",
                    'e.g. start = "19:00"',
                )
            )
        elif previous is not None and previous_start is not None:
            if previous.duration is not None:
                # None past the year 9999: _ends reports that on the previous slot.
                start = _plus(previous_start, previous.duration)
            else:
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: no start time, and {labels[i - 1]} before it has no "
                        "duration",
                        "give this slot a start, or the previous slot a duration",
                    )
                )
        starts.append(start)
        if start is not None:
            last = (i, start)
    return starts


def _earlier_start(
    event: Event,
    index: int,
    start: datetime,
    last: tuple[int, datetime],
    labels: list[str],
    issues: list[PlanIssue],
) -> datetime:
    """A clock time earlier than the slot before: the next day, or a mistake."""
    j, last_start = last
    try:
        next_day: datetime | None = datetime.combine(
            start.date() + timedelta(days=1), start.timetz()
        )
    except OverflowError:  # 9999-12-31 has no next day: the slot can only be out of order
        next_day = None
    # Rolling over to the next day is plausible only for a short step (23:50 → 00:10);
    # 20:00 → 19:50 is a slot listed out of order.
    if next_day is not None and next_day - last_start <= timedelta(hours=12):
        if event.crosses_midnight:
            return next_day
        issues.append(
            PlanIssue(
                _slot_loc(index, "start"),
                f"{labels[index]}: starts at {_hm(start)}, earlier than {labels[j]} "
                f"(timetable.slots[{j}]) at {_hm(last_start)}",
                "the show crosses midnight: set event.crosses_midnight = true if that is intended",
            )
        )
        return next_day
    issues.append(
        PlanIssue(
            _slot_loc(index, "start"),
            f"{labels[index]}: starts at {_hm(start)}, before {labels[j]} "
            f"(timetable.slots[{j}]) which starts at {_hm(last_start)}",
            "list the slots in time order",
        )
    )
    return start


def _ends(
    slots: Sequence[Slot | None],
    starts: list[datetime | None],
    labels: list[str],
    issues: list[PlanIssue],
) -> list[datetime | None]:
    ends: list[datetime | None] = []
    latest: tuple[int, datetime] | None = None  # the slot that runs latest so far
    for i, slot in enumerate(slots):
        start = starts[i]
        end: datetime | None = None
        if slot is not None and start is not None:
            if latest is not None and latest[1] > start >= (starts[latest[0]] or start):
                j, until = latest
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: starts at {_hm(start)}, while {labels[j]} "
                        f"(timetable.slots[{j}]) runs until {_hm(until)}",
                        f"shorten timetable.slots[{j}] or start this slot later",
                    )
                )
            following = starts[i + 1] if i + 1 < len(slots) else None
            if slot.duration is not None:
                end = _plus(start, slot.duration)
                if end is None:
                    issues.append(
                        PlanIssue(
                            _slot_loc(i, "duration"),
                            f"{labels[i]}: ends after the year 9999",
                            "check event.date and this slot's duration",
                        )
                    )
            elif i + 1 == len(slots):
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "duration"),
                        f"{labels[i]}: the last slot needs a duration",
                        'e.g. duration = "10m"',
                    )
                )
            elif following is not None and following == start:
                issues.append(
                    PlanIssue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: has no duration and the next slot starts at the same time",
                        "give this slot a duration, or the next slot a later start",
                    )
                )
            elif following is not None and following > start:
                end = following
        ends.append(end)
        if end is not None and (latest is None or end > latest[1]):
            latest = (i, end)
    return ends
