"""The show's answers in words: how a host command changed the timetable, naming slots as
a person reads them ("4/13 質疑応答", numbers from 1) and times on the event's clock.

Pure: it reads no clock of its own (the engine passes "now") and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from showcaller.show.plan import ShowPlan
from showcaller.show.showtime import ShowTime
from showcaller.show.timetable import (
    Back,
    Extend,
    Hold,
    Jump,
    Next,
    Resume,
    Skip,
    Start,
    Timetable,
    Unskip,
)


@dataclass(frozen=True)
class SlotWords:
    """Slots and show times as the host reads them."""

    plan: ShowPlan
    time: ShowTime

    def slot_name(self, index: int) -> str:
        """How a person reads a slot: "4/13 質疑応答" (numbers from 1)."""
        return f"{index + 1}/{len(self.plan.slots)} {self.plan.slots[index].title}"

    def hm(self, show_s: float | None) -> str:
        """A show time as the event's wall clock reads it ("19:50"), or "—"."""
        if show_s is None:
            return "—"
        return f"{self.time.wall(show_s).astimezone(self.plan.tz):%H:%M}"


def what_changed(
    words: SlotWords, command: Any, name: str, old: Timetable, new: Timetable, now: float
) -> str:
    """The answer to a timetable command, naming the slots it changed."""
    changed = list(zip(old.planned, old.runs, new.runs, strict=True))
    skipped = [s.index for s, a, b in changed if b.skipped and not a.skipped]
    unskipped = [s.index for s, a, b in changed if a.skipped and not b.skipped]
    passed = [s.index for s, a, b in changed if b.passed and not a.passed]
    status = new.status(now)
    nxt = (
        f"; next: {words.slot_name(status.next.index)} at {words.hm(status.next_start)}"
        if status.next is not None
        else ""
    )
    match command:
        case Skip():
            return "skipped " + ", ".join(map(words.slot_name, skipped)) + nxt
        case Unskip():
            rows = {r.slot.index: r for r in new.expected(now)}
            at = rows[unskipped[0]].expected_start if unskipped else None
            names = ", ".join(map(words.slot_name, unskipped))
            return f"unskipped {names}: back in the show at {words.hm(at)}"
        case Jump():
            on_air = new.on_air
            text = f"jumped to {words.slot_name(on_air.index)}" if on_air else "jumped"
            if passed:
                text += " (passed over " + ", ".join(map(words.slot_name, passed)) + ")"
            return text
        case Extend(seconds=seconds):
            on_air = old.on_air
            if on_air is None:
                return f"{name}: done"
            row = {r.slot.index: r for r in new.expected(now)}.get(on_air.index)
            ends = f"; ends at {words.hm(row.expected_end)}" if row is not None else ""
            return f"{minutes(seconds)} for {words.slot_name(on_air.index)}{ends}"
        case Next() | Back() | Start():
            on_air = new.on_air
            verb = {Next: "next", Back: "back", Start: "started"}[type(command)]
            return f"{verb}: {words.slot_name(on_air.index)} on air" if on_air else f"{verb}"
        case Hold() | Resume():
            on_air = old.on_air
            verb = "held" if isinstance(command, Hold) else "resumed"
            return f"{verb} {words.slot_name(on_air.index)}" if on_air else f"{name}: done"
    return f"{name}: done"


def minutes(seconds: float) -> str:
    """An extension as the host says it: "+1 min", "-30 s", "+1 min 30 s"."""
    sign = "+" if seconds >= 0 else "-"
    m, sec = divmod(round(abs(seconds)), 60)
    parts = [f"{m} min"] if m else []
    if sec or not m:
        parts.append(f"{sec} s")
    return sign + " ".join(parts)
