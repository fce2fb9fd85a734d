"""Which host commands ask once more before they go: the one rule every surface uses.

In `live`, one stray key or tap must not move the show: a command that starts the show
early, or changes what is on air by more than `MOVE_LIMIT_S`, is sent only when the host
confirms it (the same key again within `CONFIRM_WITHIN_S` on the dashboard, a second tap
on `/control`, `"confirm": true` on `/api/commands`). A rehearsal never asks.

    needs_confirming(Next(), show, now)  ->  "start the show now — 8 min early"

- start before the first slot, next with the standby slot on air: when the show would
  start more than a minute early (next before the first slot is refused by the show);
  next with another slot on air: when it has more than a minute left (and is not
  waiting for the host);
- back, jump: whenever a slot is on air (they change what is on air); jump before the
  show, as next does;
- extend: by more than a minute either way.

Skip and unskip never ask: they change only slots ahead (the slot on air cannot be
skipped; next ends it). End and detach are left out: every surface asks for them already
(the quit question's typed word, the page's two taps). Pure: state and time in, words out.
"""

from __future__ import annotations

from datetime import datetime

from showcaller.show.hostcommands import HostCommand
from showcaller.show.state import ShowState, SlotView
from showcaller.show.timetable import Back, Extend, Jump, Next, Start

# What moves the show by this much (show seconds) or more asks once more.
MOVE_LIMIT_S = 60.0
# How long (real seconds) a dashboard key waits for its second press.
CONFIRM_WITHIN_S = 3.0


def _amount(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _name(slot: SlotView, show: ShowState) -> str:
    total = show.slots[-1].index + 1 if show.slots else slot.index + 1
    return f"{slot.index + 1}/{total} {slot.title}"


def _left(show: ShowState, now: datetime) -> float | None:
    if show.time_left_s is None:
        return None
    if show.held:
        return show.time_left_s
    return show.time_left_s - (now - datetime.fromisoformat(show.now)).total_seconds()


def _until(slot: SlotView | None, now: datetime) -> float | None:
    if slot is None or not slot.expected_start:
        return None
    return (datetime.fromisoformat(slot.expected_start) - now).total_seconds()


def needs_confirming(command: HostCommand, show: ShowState, now: datetime) -> str | None:
    """What `command` would do, in words, when the host must confirm it; None: it goes."""
    if show.mode != "live" or show.phase not in ("waiting", "on_air"):
        return None
    on_air = show.on_air
    match command:
        case Start() if on_air is None:
            early = _until(show.next, now)
            if early is None or early <= MOVE_LIMIT_S:
                return None
            return f"start the show now — {_amount(early)} early"
        case Next() if on_air is not None and on_air.kind == "standby":
            early = _until(show.next, now)
            if early is None or early <= MOVE_LIMIT_S:
                return None
            return f"start the show now — {_amount(early)} early"
        case Next() if on_air is not None and not show.waiting_for_host:
            left = _left(show, now)
            if left is None or left <= MOVE_LIMIT_S:
                return None
            after = f" and start {_name(show.next, show)}" if show.next is not None else ""
            return f"end {_name(on_air, show)} now — {_amount(left)} early{after}"
        case Back() if on_air is not None:
            return f"take {_name(on_air, show)} off the air and put the slot before it back"
        case Jump(slot_index=index) if on_air is None:
            early = _until(show.next, now)
            if early is None or early <= MOVE_LIMIT_S:
                return None
            target = next((s for s in show.slots if s.index == index), None)
            what = _name(target, show) if target is not None else f"slot {index + 1}"
            return f"start the show now at {what} — {_amount(early)} early"
        case Jump(slot_index=index) if on_air is not None:
            target = next((s for s in show.slots if s.index == index), None)
            what = _name(target, show) if target is not None else f"slot {index + 1}"
            return f"put {what} on air now, ending {_name(on_air, show)}"
        case Extend(seconds=seconds) if on_air is not None and abs(seconds) > MOVE_LIMIT_S:
            more = "more" if seconds > 0 else "less"
            return f"give {_name(on_air, show)} {_amount(seconds)} {more}"
    return None


__all__ = ["CONFIRM_WITHIN_S", "MOVE_LIMIT_S", "needs_confirming"]
