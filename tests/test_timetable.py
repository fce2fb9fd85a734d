"""The pure timetable: examples for every rule, then hypothesis properties over random plans."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showcaller.errors import UsageError
from showcaller.show.timetable import (
    Back,
    Command,
    CommandRejected,
    Cue,
    Extend,
    Hold,
    JournalMismatch,
    Jump,
    Next,
    PlannedSlot,
    Resume,
    ShowEnded,
    Skip,
    SlotOverrun,
    SlotStarted,
    Start,
    Timetable,
    Unskip,
    plan_hash,
    shifted,
    validate_plan,
)

M = 60.0


def slot(index: int, kind: Any, start_min: float, end_min: float, **kw: Any) -> PlannedSlot:
    """A planned slot with times given in minutes from the origin."""
    return PlannedSlot(
        index=index,
        kind=kind,
        title=f"{kind} {index}",
        start=start_min * M,
        end=end_min * M,
        **kw,
    )


# opening 0-5, talk 5-25, break 25-35 (may shrink to 5 min), talk 35-55, closing 55-60
PLAN = (
    slot(0, "opening", 0, 5),
    slot(1, "talk", 5, 25),
    slot(2, "break", 25, 35, min_s=5 * M),
    slot(3, "talk", 35, 55),
    slot(4, "closing", 55, 60),
)
MANUAL_TALK = (
    PLAN[0],
    slot(1, "talk", 5, 25, end_mode="manual"),
    *PLAN[2:],
)
GRACE_TALK = (
    PLAN[0],
    slot(1, "talk", 5, 25, end_mode="grace", grace_s=120.0),
    *PLAN[2:],
)
# a 10-minute gap between the first talk and the second one
GAP_PLAN = (
    slot(0, "talk", 0, 20, end_mode="manual"),
    slot(1, "talk", 30, 50),
    slot(2, "closing", 50, 55),
)


def run(tt: Timetable, *steps: float | tuple[float, Command]) -> tuple[Timetable, list[Cue]]:
    """Advance to each time (or apply a (time, command)), collecting all cues."""
    cues: list[Cue] = []
    for step in steps:
        if isinstance(step, tuple):
            now, cmd = step
            tt, new = tt.advance(now)
            cues += new
            tt, new = tt.apply(cmd, now)
        else:
            tt, new = tt.advance(step)
        cues += new
    return tt, cues


def rows_by_index(tt: Timetable, now: float) -> dict[int, Any]:
    return {r.slot.index: r for r in tt.expected(now)}


# --- before and at the start -------------------------------------------------------------


def test_before_the_show_expected_equals_planned() -> None:
    tt = Timetable.new(PLAN)
    rows = tt.expected(-600.0)
    assert [r.state for r in rows] == ["upcoming"] * 5
    assert [(r.expected_start, r.expected_end) for r in rows] == [(s.start, s.end) for s in PLAN]
    status = tt.status(-600.0)
    assert status.on_air is None
    assert status.next == PLAN[0]
    assert status.delay == 0.0
    assert tt.next_deadline(-600.0) == 0.0


def test_show_starts_at_the_planned_start_of_the_first_slot() -> None:
    tt = Timetable.new(PLAN)
    tt, cues = tt.advance(-1.0)
    assert cues == []
    tt, cues = tt.advance(0.0)
    assert cues == [SlotStarted(0, 0.0, caught_up=False, reason="plan")]
    assert tt.on_air == PLAN[0]
    assert tt.status(60.0).time_left == 4 * M


def test_start_command_starts_the_first_slot_early() -> None:
    tt, cues = run(Timetable.new(PLAN), (-2 * M, Start()))
    assert cues == [SlotStarted(0, -2 * M, caught_up=False, reason="command")]
    assert tt.status(-2 * M).delay == -2 * M
    assert tt.next_deadline(-2 * M) == 3 * M


def test_auto_slot_hands_over_at_its_end() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0)
    assert tt.next_deadline(10.0) == 5 * M
    tt, cues = tt.advance(5 * M)
    assert cues == [SlotStarted(1, 5 * M, caught_up=False, reason="auto")]
    assert rows_by_index(tt, 5 * M)[0].actual_end == 5 * M


# --- overrun: manual, grace ---------------------------------------------------------------


def test_manual_end_waits_for_host() -> None:
    tt, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M)
    assert tt.next_deadline(10 * M) == 25 * M
    tt, cues = tt.advance(25 * M)
    assert cues == [SlotOverrun(1, 25 * M, mode="manual", grace_until=None)]
    assert tt.next_deadline(25 * M) is None
    tt, cues = tt.advance(45 * M)
    assert cues == []
    assert tt.on_air == MANUAL_TALK[1]
    status = tt.status(27 * M)
    assert status.waiting_for_host
    assert status.time_left == -2 * M


def test_manual_overrun_delays_the_following_slots() -> None:
    tt, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M, 25 * M)
    status = tt.status(27 * M)
    assert status.next == MANUAL_TALK[2]
    assert status.next_start == 27 * M
    assert status.delay == 2 * M
    tt, cues = tt.apply(Next(), 27 * M)
    assert cues == [SlotStarted(2, 27 * M, caught_up=False, reason="command")]
    assert rows_by_index(tt, 27 * M)[1].actual_end == 27 * M


def test_grace_warns_then_switches() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M)
    tt, cues = tt.advance(25 * M)
    assert cues == [SlotOverrun(1, 25 * M, mode="grace", grace_until=25 * M + 120)]
    status = tt.status(26 * M)
    assert status.grace_until == 25 * M + 120
    assert not status.waiting_for_host
    assert tt.next_deadline(26 * M) == 25 * M + 120
    tt, cues = tt.advance(25 * M + 120)
    assert cues == [SlotStarted(2, 25 * M + 120, caught_up=False, reason="grace")]


def test_host_can_end_a_grace_period_early() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M, 25 * M)
    tt, cues = tt.apply(Next(), 25 * M + 30)
    assert cues == [SlotStarted(2, 25 * M + 30, caught_up=False, reason="command")]


def test_grace_slot_is_expected_to_use_its_whole_grace_once_it_began() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M)
    assert tt.status(24 * M).next_start == 25 * M
    tt, _ = tt.advance(25 * M)
    assert tt.status(25 * M).next_start == 25 * M + 120


# --- delay: back to back, gaps, absorbing slots, the closing -----------------------------


def test_break_absorbs_delay_down_to_its_minimum() -> None:
    base, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M, 25 * M)

    three_late, _ = base.apply(Next(), 28 * M)
    rows = rows_by_index(three_late, 28 * M)
    assert (rows[2].expected_start, rows[2].expected_end) == (28 * M, 35 * M)
    assert rows[3].expected_start == 35 * M  # fully absorbed
    assert three_late.status(28 * M).delay == 0.0

    eight_late, _ = base.apply(Next(), 33 * M)
    rows = rows_by_index(eight_late, 33 * M)
    assert (rows[2].expected_start, rows[2].expected_end) == (33 * M, 38 * M)  # min 5 min
    assert rows[3].expected_start == 38 * M
    assert eight_late.status(33 * M).delay == 3 * M


def test_break_absorbs_while_on_air() -> None:
    tt, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M, (28 * M, Next()))
    tt, cues = tt.advance(35 * M)
    assert cues == [SlotStarted(3, 35 * M, caught_up=False, reason="auto")]


def test_break_never_runs_longer_than_planned() -> None:
    tt, _ = run(Timetable.new(PLAN), (-2 * M, Start()))
    rows = rows_by_index(tt, -2 * M)
    assert (rows[2].expected_start, rows[2].expected_end) == (23 * M, 33 * M)


def test_closing_never_starts_before_planned() -> None:
    tt, _ = run(Timetable.new(PLAN), (-2 * M, Start()))
    assert rows_by_index(tt, 0.0)[4].expected_start == 55 * M
    tt, cues = run(tt, 3 * M, 23 * M, 33 * M)
    assert [c.slot_index for c in cues if isinstance(c, SlotStarted)] == [1, 2, 3]
    # talk 3 ends at 53 min; it stays on air ("stretches") until the closing's planned start
    tt, cues = tt.advance(53 * M)
    assert cues == []
    status = tt.status(54 * M)
    assert status.on_air == PLAN[3]
    assert status.next_start == 55 * M
    assert status.delay == 0.0
    tt, cues = tt.advance(55 * M)
    assert cues == [SlotStarted(4, 55 * M, caught_up=False, reason="plan")]


def test_a_late_closing_starts_late() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, 25 * M, 35 * M, (35 * M, Extend(4 * M)))
    assert rows_by_index(tt, 40 * M)[4].expected_start == 59 * M
    tt, cues = tt.advance(59 * M)
    assert cues == [SlotStarted(4, 59 * M, caught_up=False, reason="auto")]
    tt, cues = tt.advance(64 * M)
    assert cues == [ShowEnded(64 * M)]


def test_gap_absorbs_delay() -> None:
    tt, _ = run(Timetable.new(GAP_PLAN), 0.0, 20 * M)
    assert tt.status(25 * M).next_start == 30 * M
    assert tt.status(25 * M).delay == 0.0
    assert tt.status(33 * M).next_start == 33 * M
    assert tt.status(33 * M).delay == 3 * M


def test_gap_keeps_an_early_show_waiting_for_the_next_planned_start() -> None:
    plan = (slot(0, "talk", 0, 20), *GAP_PLAN[1:])
    tt, _ = run(Timetable.new(plan), (-5 * M, Start()))
    assert tt.next_deadline(0.0) == 30 * M
    tt, cues = tt.advance(29 * M)
    assert cues == []
    assert tt.on_air == plan[0]
    tt, cues = tt.advance(30 * M)
    assert cues == [SlotStarted(1, 30 * M, caught_up=False, reason="plan")]
    assert rows_by_index(tt, 30 * M)[0].actual_end == 30 * M


def test_early_back_to_back_slots_start_early() -> None:
    tt, _ = run(Timetable.new(PLAN), (-2 * M, Start()))
    assert tt.status(0.0).next_start == 3 * M
    assert tt.status(0.0).delay == -2 * M


# --- hold, extend --------------------------------------------------------------------------


def test_hold_freezes_time_left() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, (10 * M, Hold()))
    assert tt.status(10 * M).time_left == 15 * M
    assert tt.status(12 * M).time_left == 15 * M
    assert tt.status(12 * M).held
    assert tt.status(12 * M).delay == 2 * M
    assert tt.next_deadline(12 * M) is None
    assert tt.advance(40 * M)[1] == []
    tt, cues = tt.apply(Resume(), 13 * M)
    assert cues == []
    assert tt.status(13 * M).time_left == 15 * M
    assert tt.next_deadline(13 * M) == 28 * M
    assert rows_by_index(tt, 13 * M)[1].held == 3 * M


def test_extend_gives_more_time() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, (10 * M, Extend(2 * M)))
    assert tt.status(10 * M).time_left == 17 * M
    assert tt.next_deadline(10 * M) == 27 * M


def test_extend_negative_cannot_end_before_now_and_the_end_is_due_at_once() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, (10 * M, Extend(-30 * M)))
    assert tt.status(10 * M).time_left == 0.0
    assert tt.next_deadline(10 * M) == 10 * M
    tt, cues = tt.advance(10 * M)
    assert cues == [SlotStarted(2, 10 * M, caught_up=False, reason="auto")]


def test_extend_after_the_end_was_reached_counts_from_now() -> None:
    tt, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M, 25 * M, (27 * M, Extend(M)))
    status = tt.status(27 * M)
    assert status.time_left == M
    assert status.waiting_for_host  # still the host's call when it ends


def test_shortening_a_slot_past_its_end_changes_nothing() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M, 25 * M)
    shorter, cues = tt.apply(Extend(-30), 26 * M)
    assert cues == []
    assert shorter.status(26 * M).grace_until == 25 * M + 120


def test_extend_during_grace_gives_time_from_now_then_grace_again() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M, 25 * M, (26 * M, Extend(M)))
    status = tt.status(26 * M)
    assert status.time_left == M
    assert status.grace_until == 27 * M + 120


# --- skip, jump, back, next ---------------------------------------------------------------


def test_skip_defaults_to_the_next_slot() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, (M, Skip()))
    assert rows_by_index(tt, M)[1].state == "skipped"
    tt, cues = tt.advance(5 * M)
    # slot 1 skipped leaves no hole: the break follows the opening at the opening's end
    assert cues == [SlotStarted(2, 5 * M, caught_up=False, reason="auto")]


def test_skipping_the_next_slot_never_leaves_the_talk_on_air_in_overtime() -> None:
    """Issue 19: `s` during a talk left it on air, in red overtime, until the slot after
    the skipped one's planned start."""
    plan = (
        slot(0, "talk", 0, 20),
        slot(1, "qa", 20, 30),
        slot(2, "talk", 30, 50),
        slot(3, "closing", 50, 55),
    )
    tt, _ = run(Timetable.new(plan), 0.0, (10 * M, Skip()))
    assert tt.status(10 * M).next == plan[2]
    assert tt.status(10 * M).next_start == 20 * M
    assert tt.next_deadline(10 * M) == 20 * M
    tt, cues = tt.advance(20 * M)
    assert cues == [SlotStarted(2, 20 * M, caught_up=False, reason="auto")]
    assert tt.status(20 * M).time_left == 20 * M
    # the closing still never starts early: the talk before it stays on air until 50 min
    tt, cues = tt.advance(40 * M)
    assert cues == []
    assert tt.next_deadline(40 * M) == 50 * M


def test_a_skipped_slot_before_a_gap_keeps_the_gap() -> None:
    plan = (
        slot(0, "talk", 0, 20),
        slot(1, "qa", 20, 30),
        slot(2, "talk", 40, 50),  # a 10-minute gap after the Q&A
        slot(3, "closing", 50, 55),
    )
    tt, _ = run(Timetable.new(plan), 0.0, (M, Skip(1)))
    # pulled 10 minutes earlier (the Q&A's length), the gap still soaks an early end
    assert tt.status(M).next_start == 30 * M


def test_unskip_puts_a_skipped_slot_back() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, (M, Skip()))
    tt, cues = tt.apply(Unskip(1), 2 * M)
    assert cues == []
    assert rows_by_index(tt, 2 * M)[1].state == "upcoming"
    assert tt.status(2 * M).next_start == 5 * M
    with pytest.raises(CommandRejected, match="not skipped"):
        tt.apply(Unskip(1), 2 * M)


def test_unskip_behind_the_slot_on_air_is_refused() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, (M, Skip(1)), 10 * M)
    assert tt.on_air == PLAN[2]
    with pytest.raises(CommandRejected, match="jump to it"):
        tt.apply(Unskip(1), 11 * M)


def test_skip_refuses_the_closing_unless_named() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, 25 * M, 35 * M)
    with pytest.raises(CommandRejected, match="closing"):
        tt.apply(Skip(), 36 * M)
    tt, _ = tt.apply(Skip(4), 36 * M)
    tt, cues = tt.advance(55 * M)
    assert cues == [ShowEnded(55 * M)]


def test_skip_the_on_air_or_a_played_slot_is_rejected() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M)
    with pytest.raises(CommandRejected, match="on air"):
        tt.apply(Skip(1), 6 * M)
    with pytest.raises(CommandRejected, match="already been on air"):
        tt.apply(Skip(0), 6 * M)


def test_jump_forward_passes_over_the_slots_in_between() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, (M, Jump(3)))
    rows = rows_by_index(tt, M)
    assert [rows[i].state for i in range(5)] == ["done", "passed", "passed", "on_air", "upcoming"]
    assert tt.status(M).time_left == 20 * M
    # Back goes to the slot that was on air before the jump
    tt, cues = tt.apply(Back(), 2 * M)
    assert cues == [SlotStarted(0, 2 * M, caught_up=False, reason="command")]
    assert rows_by_index(tt, 2 * M)[1].state == "upcoming"


def test_jump_backward_restarts_and_resets_later_slots() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, 25 * M, (30 * M, Jump(1)))
    rows = rows_by_index(tt, 30 * M)
    assert rows[1].state == "on_air"
    assert rows[1].actual_start == 30 * M
    assert rows[2].state == "upcoming"
    assert rows[2].actual_start is None
    assert tt.status(30 * M).time_left == 20 * M


def test_back_restarts_the_previous_slot_with_its_planned_duration() -> None:
    tt, _ = run(Timetable.new(MANUAL_TALK), 0.0, 5 * M, (28 * M, Next()))
    # the break was squeezed to 7 min; going back restarts the talk, not the break
    tt, cues = tt.apply(Back(), 29 * M)
    assert cues == [SlotStarted(1, 29 * M, caught_up=False, reason="command")]
    assert tt.status(29 * M).time_left == 20 * M
    tt, _ = run(tt, 49 * M, (50 * M, Next()))
    assert tt.status(50 * M).time_left == 5 * M  # 15 min late: the break shrinks to 5 min
    tt, _ = run(tt, (51 * M, Next()), (52 * M, Back()))
    assert tt.on_air == MANUAL_TALK[2]
    assert tt.status(52 * M).time_left == 10 * M  # a restarted break does not shrink


def test_back_after_the_show_ended_reopens_the_last_slot() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, 5 * M, 25 * M, 35 * M, 55 * M, 60 * M)
    assert tt.ended
    tt, cues = tt.apply(Back(), 61 * M)
    assert cues == [SlotStarted(4, 61 * M, caught_up=False, reason="command")]
    assert not tt.ended
    assert tt.next_deadline(61 * M) == 66 * M


def test_next_at_the_last_slot_ends_the_show() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0, (M, Jump(4)))
    tt, cues = tt.apply(Next(), 2 * M)
    assert cues == [ShowEnded(2 * M)]
    assert tt.ended
    assert tt.status(3 * M).on_air is None
    assert tt.next_deadline(3 * M) is None


# --- catch-up, idempotence ---------------------------------------------------------------


def test_catch_up_after_long_gap_emits_one_cue_and_passes_over_the_unseen_slots() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0)
    tt, cues = tt.advance(40 * M)  # the laptop slept from 0:00 to 0:40
    assert cues == [SlotStarted(3, 35 * M, caught_up=True, reason="auto")]
    rows = rows_by_index(tt, 40 * M)
    # the opening was on air when it froze; the talk and the break never went on air
    assert [(rows[i].state, rows[i].actual_start, rows[i].actual_end) for i in range(3)] == [
        ("done", 0.0, 5 * M),
        ("passed", None, None),
        ("passed", None, None),
    ]
    assert tt.to_state()["slots"][1]["passed"] is True
    assert tt.status(40 * M).time_left == 15 * M


def test_catch_up_from_before_the_show() -> None:
    _, cues = Timetable.new(PLAN).advance(6 * M)
    assert cues == [SlotStarted(1, 5 * M, caught_up=True, reason="auto")]


def test_catch_up_stops_at_a_manual_slot() -> None:
    tt, cues = Timetable.new(MANUAL_TALK).advance(50 * M)
    assert cues == [
        SlotStarted(1, 5 * M, caught_up=True, reason="auto"),
        SlotOverrun(1, 25 * M, mode="manual", grace_until=None),
    ]
    assert tt.status(50 * M).waiting_for_host


def test_catch_up_past_the_end_only_ends_the_show() -> None:
    tt, _ = run(Timetable.new(PLAN), 0.0)
    tt, cues = tt.advance(3 * 3600.0)
    assert cues == [ShowEnded(60 * M)]


def test_advance_is_idempotent() -> None:
    tt, _ = run(Timetable.new(GRACE_TALK), 0.0, 5 * M)
    once, cues = tt.advance(25 * M)
    assert len(cues) == 1
    twice, cues = once.advance(25 * M)
    assert cues == []
    assert twice == once


def test_a_command_never_acts_before_the_on_air_slot_started() -> None:
    # the engine advanced 2 s ahead to switch the scene early; the host presses Next meanwhile
    tt, _ = Timetable.new(PLAN).advance(5 * M + 0.5)  # at 4:58.5 + 2 s of lead
    tt, cues = tt.apply(Next(), 5 * M - 1)
    assert cues == [SlotStarted(2, 5 * M, caught_up=False, reason="command")]
    row = rows_by_index(tt, 5 * M)[1]
    assert row.actual_start == row.actual_end == 5 * M


# --- rejected commands ------------------------------------------------------------------

BEFORE = Timetable.new(PLAN)
ON_AIR_FIRST, _ = BEFORE.advance(0.0)
ENDED, _ = run(BEFORE, (M, Jump(4)), (2 * M, Next()))


@pytest.mark.parametrize(
    ("tt", "cmd", "message"),
    [
        (BEFORE, Next(), "not started"),
        (BEFORE, Back(), "not started"),
        (BEFORE, Hold(), "not started"),
        (BEFORE, Extend(60), "not started"),
        (ON_AIR_FIRST, Back(), "first slot"),
        (ON_AIR_FIRST, Resume(), "nothing is on hold"),
        (ON_AIR_FIRST, Start(), "already running"),
        (ON_AIR_FIRST, Jump(9), "no slot 10"),  # read from 1: index 9 is slot 10
        (ON_AIR_FIRST, Skip(9), "no slot 10"),
        (ON_AIR_FIRST, Extend(math.inf), "cannot extend"),
        (ENDED, Next(), "ended"),
        (ENDED, Start(), "ended"),
        (ENDED, Jump(1), "ended"),
    ],
)
def test_bad_command_leaves_timetable_unchanged(tt: Timetable, cmd: Command, message: str) -> None:
    before = tt.to_state()
    with pytest.raises(CommandRejected, match=message):
        tt.apply(cmd, 30.0 if not tt.ended else 3 * M)
    assert tt.to_state() == before


def test_command_rejected_is_a_usage_error_for_the_cli() -> None:
    assert issubclass(CommandRejected, UsageError)
    with pytest.raises(UsageError):
        BEFORE.apply(Hold(), 0.0)


def test_hold_twice_is_rejected() -> None:
    tt, _ = ON_AIR_FIRST.apply(Hold(), 10.0)
    with pytest.raises(CommandRejected, match="already on hold"):
        tt.apply(Hold(), 20.0)


def test_skipping_every_slot_before_the_show_is_rejected() -> None:
    tt = Timetable.new(PLAN[:2])
    tt, _ = tt.apply(Skip(0), -M)
    with pytest.raises(CommandRejected, match="every slot"):
        tt.apply(Skip(1), -M)


# --- journal, plan identity, rehearsal helpers ------------------------------------------


def test_state_round_trip_is_exact() -> None:
    tt, _ = run(
        Timetable.new(GRACE_TALK),
        0.0,
        (4 * M + 0.1, Extend(7.3)),
        25 * M + 1 / 3,
        (26 * M, Hold()),
    )
    state = json.loads(json.dumps(tt.to_state()))
    assert Timetable.from_state(GRACE_TALK, state) == tt


def test_from_state_detects_another_plan() -> None:
    state = ON_AIR_FIRST.to_state()
    with pytest.raises(JournalMismatch, match="different timetable"):
        Timetable.from_state(MANUAL_TALK, state)


def test_plan_hash_is_stable_and_sensitive() -> None:
    assert plan_hash(PLAN) == plan_hash(tuple(PLAN))
    assert plan_hash(PLAN) != plan_hash(shifted(PLAN, 1.0))
    assert plan_hash(PLAN) != plan_hash(MANUAL_TALK)
    assert len(plan_hash(PLAN)) == 16
    assert Timetable.new(PLAN).plan_version == plan_hash(PLAN)


def test_a_journal_survives_fixing_titles_speakers_and_scenes_but_not_timing() -> None:
    # Mid-show, the host fixes a typo in a title and renames a scene, then restarts.
    retouched = tuple(
        replace(s, title=s.title + " (fixed)", scene=s.scene + " 2", speakers=("someone",))
        for s in PLAN
    )
    state = ON_AIR_FIRST.to_state()
    assert Timetable.from_state(retouched, state).to_state() == state
    for changed in (
        shifted(PLAN, 60.0),
        tuple(replace(s, end_mode="manual") if s.index == 1 else s for s in PLAN),
        tuple(replace(s, kind="lt") if s.kind == "talk" else s for s in PLAN),
    ):
        with pytest.raises(JournalMismatch, match="different timetable"):
            Timetable.from_state(changed, state)


def test_from_slot_drops_the_earlier_slots() -> None:
    tt = Timetable.new(PLAN, from_slot=3)
    assert [r.slot.index for r in tt.expected(0.0)] == [3, 4]
    assert tt.next_deadline(0.0) == 35 * M
    with pytest.raises(CommandRejected, match="not part of this run"):
        tt.apply(Jump(1), 0.0)
    with pytest.raises(UsageError, match="no slot 7"):
        Timetable.new(PLAN, from_slot=7)


def test_shifted_moves_every_slot_for_a_rehearsal() -> None:
    tt = Timetable.new(shifted(PLAN, 1000.0), from_slot=1)
    assert tt.next_deadline(0.0) == 1000.0 + 5 * M


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ((), "no slots"),
        ((slot(0, "talk", 5, 5),), "ends before it starts"),
        ((slot(0, "talk", 0, 10), slot(1, "talk", 5, 15)), "before the previous slot ends"),
        ((slot(0, "talk", 0, 10), slot(0, "talk", 10, 15)), "used twice"),
        ((slot(0, "keynote", 0, 10),), "unknown kind"),
        ((slot(0, "talk", 0, 10, end_mode="whenever"),), "unknown end mode"),
        ((slot(0, "talk", 0, 10, grace_s=-1.0),), "negative"),
    ],
)
def test_invalid_plan_is_refused(plan: tuple[PlannedSlot, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_plan(plan)


# --- properties over random shows --------------------------------------------------------
#
# Plans: 2-12 slots of random kinds, lengths, gaps and end modes (the last one is often the
# closing), slot indices offset from positions. Shows: a start time and up to 30 steps of
# (time step >= 0, optional command). After each step the engine's contract is checked.

EPS = 1e-6  # a microsecond: float rounding of sums, far below anything a host could see
ASKED = (Next, Back, Jump, Skip, Start)  # commands that may move upcoming slots earlier
OTHER_KINDS = ["standby", "opening", "talk", "talk", "lt", "qa", "break", "break"]


@st.composite
def plans(draw: st.DrawFn, modes: tuple[str, ...] = ("auto", "auto", "manual", "grace")) -> Any:
    n = draw(st.integers(2, 12))
    offset = draw(st.sampled_from([0, 1, 10]))
    t = draw(st.integers(-1200, 1200)) / 2
    out = []
    for i in range(n):
        last = i == n - 1
        kind = draw(st.sampled_from(OTHER_KINDS + ["closing"] * (8 if last else 0)))
        if i:
            t += draw(st.sampled_from([0.0, 0.0, 0.0, 30.0, 600.0]))
        duration = draw(st.integers(1, 3600)) / 2
        mode = draw(st.sampled_from(modes))
        grace = draw(st.integers(0, 1200)) / 2 if mode == "grace" else 0.0
        min_s = None
        if kind in ("break", "qa"):
            min_s = draw(st.one_of(st.none(), st.integers(0, int(duration * 2 + 60)).map(float)))
        out.append(
            PlannedSlot(offset + i, kind, f"{kind} {i}", t, t + duration, mode, grace, min_s)
        )
        t += duration
    return tuple(out)


def commands(planned: tuple[PlannedSlot, ...]) -> st.SearchStrategy[Command | None]:
    first = planned[0].index
    index = st.integers(first - 1, first + len(planned))
    return st.one_of(
        st.none(),
        st.none(),
        st.none(),
        st.sampled_from([Next(), Back(), Hold(), Resume(), Start()]),
        st.sampled_from([Next(), Back(), Start(), Hold(), Resume()]),
        st.just(Resume()),
        st.builds(Extend, st.floats(-1800, 1800, allow_nan=False)),
        st.builds(Skip, st.one_of(st.none(), index)),
        st.builds(Unskip, index),
        st.builds(Jump, index),
    )


TIME_STEPS = st.one_of(
    st.just(0.0),
    st.floats(0, 60),
    st.floats(0, 600),
    st.integers(0, 900).map(float),
    st.floats(0, 8000),
)
# ("after", dt): now += dt; ("deadline", dt): wake at the next deadline (as the engine does),
# plus dt, to hit the exact boundaries and land inside grace periods and holds.
WAKE_UPS = st.one_of(
    TIME_STEPS.map(lambda dt: ("after", dt)),
    st.one_of(st.just(0.0), st.floats(0, 30)).map(lambda dt: ("deadline", dt)),
)


@st.composite
def shows(draw: st.DrawFn) -> Any:
    planned = draw(plans())
    start = planned[0].start - draw(st.sampled_from([0.0, 1.0, 300.0, 1800.0]))
    steps = draw(st.lists(st.tuples(WAKE_UPS, commands(planned)), max_size=40))
    return planned, start, steps


def upcoming_starts(tt: Timetable, now: float) -> dict[int, float]:
    return {
        r.slot.index: r.expected_start
        for r in tt.expected(now)
        if r.state == "upcoming" and r.expected_start is not None
    }


def assert_not_earlier(before: dict[int, float], after: dict[int, float]) -> None:
    for index, start in after.items():
        if index in before:
            assert start >= before[index] - EPS, f"slot {index} moved earlier unasked"


def assert_no_overlap(tt: Timetable, now: float) -> None:
    """Actual and expected intervals of the slots in the show follow each other in order."""
    live = [r for r in tt.expected(now) if r.state not in ("skipped", "passed")]
    prev_end: float | None = None
    for r in live:
        assert r.expected_start is not None
        assert r.expected_end is not None
        if r.state == "done":
            assert r.actual_start is not None
            assert r.actual_end is not None
            assert r.actual_start <= r.actual_end <= now
        elif r.state == "on_air":
            assert r.actual_start is not None
            assert r.actual_start <= now
            assert r.expected_end >= r.actual_start - EPS
        else:
            assert r.actual_start is None
            assert now - EPS <= r.expected_start <= r.expected_end
        if prev_end is not None:
            assert r.expected_start >= prev_end - EPS
        prev_end = r.expected_end


def assert_delay_conserved(tt: Timetable, now: float) -> None:
    """Delay is never lost or invented along the upcoming slots.

    With lateness = expected - planned: across a back-to-back join (never before the
    closing) the next slot starts exactly as late as the previous one ends; across a gap of
    g seconds (a gap in the plan, a skipped slot, or the closing) it starts max(0, late - g)
    late (a skipped slot: see below); a slot ends as late as it starts, except an absorbing
    slot (break/qa with min_s),
    which soaks up min(late, duration - min_s) of a positive lateness. So, from the first
    upcoming slot to the last: late_last = late_first - soaked, where each gap and each
    absorbing slot soaks at most its capacity, and only what is there to soak.
    """
    rows = tt.expected(now)
    chain = [(i, r) for i, r in enumerate(rows) if r.state == "upcoming"]
    first_late: float | None = None
    capacity = 0.0
    for (i, a), (j, b) in itertools.pairwise(chain):
        if any(rows[k].state != "skipped" for k in range(i + 1, j)):
            break
        assert a.expected_end is not None
        assert b.delay is not None
        gap = b.planned_start - a.planned_end
        joined = j == i + 1 and abs(gap) <= EPS and b.slot.kind != "closing"
        # A skipped slot leaves no hole: the slots after it are pulled earlier by its length,
        # and slots back to back through it stay back to back (the closing never moves early).
        through = [rows[k].slot for k in range(i, j + 1)]
        back_to_back = all(abs(x.end - y.start) <= EPS for x, y in itertools.pairwise(through))
        skipped_len = sum(rows[k].slot.duration for k in range(i + 1, j))
        if b.slot.kind == "closing":
            want = max(b.planned_start, a.expected_end)
        elif back_to_back:
            want = a.expected_end
        else:
            want = max(b.planned_start - skipped_len, a.expected_end)
        assert b.expected_start == pytest.approx(want, abs=EPS)
        if not joined:
            capacity += gap
    for _, r in chain:
        assert r.delay is not None
        assert r.expected_end is not None
        assert r.extension == 0.0
        late = r.delay
        first_late = late if first_late is None else first_late
        end_late = r.expected_end - r.planned_end
        if r.slot.absorbs and r.slot.min_s is not None:
            room = max(0.0, r.slot.duration - r.slot.min_s)
            assert end_late == pytest.approx(min(late, max(0.0, late - room)), abs=EPS)
            capacity += room
        else:
            assert end_late == pytest.approx(late, abs=EPS)
    if chain and first_late is not None and first_late >= 0:
        last = chain[-1][1]
        assert last.delay is not None
        soaked = first_late - last.delay
        assert -EPS <= soaked <= capacity + EPS
        if last.slot.kind == "closing":
            assert last.delay >= -EPS


def assert_round_trip(tt: Timetable) -> None:
    state = json.loads(json.dumps(tt.to_state()))
    assert Timetable.from_state(tt.planned, state) == tt


def assert_settled(tt: Timetable, now: float) -> None:
    """Advance is idempotent: once advanced to now, nothing more is due at now."""
    again, cues = tt.advance(now)
    assert cues == []
    assert again == tt
    deadline = tt.next_deadline(now)
    assert deadline is None or deadline > now


def assert_expected_is_what_happens(tt: Timetable, now: float) -> None:
    """If nobody acts, slots start exactly when expected (as far as that is knowable).

    Knowable: not on hold, and every slot before it in the chain ends by itself at a known
    moment (auto, or a grace slot whose grace period has begun); a manual slot, or a grace
    slot before its end, is expected to end on time, which only the host can make true.
    """
    if tt.ended or tt.held:
        return
    on_air = tt.on_air
    if on_air is not None and not (
        on_air.end_mode == "auto" or (on_air.end_mode == "grace" and tt.warned)
    ):
        return
    predicted: dict[int, float] = {}
    for r in tt.expected(now):
        if r.state != "upcoming" or r.expected_start is None:
            continue
        predicted[r.slot.index] = r.expected_start
        if r.slot.end_mode != "auto":
            break
    sim = tt
    while (deadline := sim.next_deadline(now)) is not None:
        sim, _ = sim.advance(deadline)
    actual = {r.slot.index: r.actual_start for r in sim.expected(now)}
    for index, start in predicted.items():
        assert actual[index] == pytest.approx(start, abs=EPS), f"slot {index}"


def assert_end_is_cued(tt: Timetable, now: float, overrun_cued: set[int]) -> None:
    """A manual or grace slot that reached its end has been warned, with a SlotOverrun cue."""
    status = tt.status(now)
    slot = status.on_air
    if slot is None or slot.end_mode == "auto" or status.held or status.time_left is None:
        return
    if status.time_left <= 0:
        assert slot.index in overrun_cued
        assert status.waiting_for_host or status.grace_until is not None


def check_cues(
    cues: list[Cue],
    tt: Timetable,
    now: float,
    started: set[int],
    overrun_cued: set[int],
    *,
    by_command: bool,
) -> None:
    """At most one start per call, never for a slot already started, closing never early."""
    starts = [c for c in cues if isinstance(c, SlotStarted)]
    assert len(starts) <= 1
    assert not (starts and any(isinstance(c, ShowEnded) for c in cues))
    for cue in cues:
        assert cue.at <= now
        if isinstance(cue, SlotOverrun):
            overrun_cued.add(cue.slot_index)
        if not isinstance(cue, SlotStarted):
            continue
        slot = next(s for s in tt.planned if s.index == cue.slot_index)
        assert cue.slot_index not in started, "a slot started twice without Back/Jump"
        started.add(cue.slot_index)
        overrun_cued.discard(cue.slot_index)
        if not by_command:
            assert cue.reason != "command"
            if slot.kind == "closing":
                assert cue.at >= slot.start, "the closing started before its planned start"
            if cue.reason == "plan":
                assert cue.at == slot.start


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(show=shows())
def test_random_shows_keep_the_timetable_contract(show: Any) -> None:
    planned, now, steps = show
    tt = Timetable.new(planned)
    started: set[int] = set()
    overrun_cued: set[int] = set()
    baseline = upcoming_starts(tt, now)
    for (wake, dt), cmd in steps:
        deadline = tt.next_deadline(now)
        if wake == "deadline" and deadline is not None:
            now = max(now, deadline)
        now += dt
        tt, cues = tt.advance(now)
        check_cues(cues, tt, now, started, overrun_cued, by_command=False)
        assert_not_earlier(baseline, upcoming_starts(tt, now))
        assert_settled(tt, now)
        if cmd is not None:
            before = upcoming_starts(tt, now)
            try:
                after_cmd, cues = tt.apply(cmd, now)
            except CommandRejected:
                pass  # immutable: tt is untouched by construction
            else:
                asked = isinstance(cmd, ASKED) or (isinstance(cmd, Extend) and cmd.seconds < 0)
                if not asked:
                    assert_not_earlier(before, upcoming_starts(after_cmd, now))
                if isinstance(cmd, Back | Jump) and cues:
                    started.clear()
                check_cues(
                    cues, after_cmd, now, started, by_command=True, overrun_cued=overrun_cued
                )
                tt, cues = after_cmd.advance(now)
                check_cues(cues, tt, now, started, overrun_cued, by_command=False)
        assert_settled(tt, now)
        assert_no_overlap(tt, now)
        assert_delay_conserved(tt, now)
        assert_expected_is_what_happens(tt, now)
        assert_end_is_cued(tt, now, overrun_cued)
        assert_round_trip(tt)
        baseline = upcoming_starts(tt, now)


@settings(max_examples=200, deadline=None)
@given(
    planned=plans(modes=("auto",)),
    early=st.one_of(st.just(0.0), st.floats(0.001, 1800)),
    steps=st.lists(TIME_STEPS, max_size=20),
)
def test_an_auto_show_left_alone_runs_exactly_to_plan(
    planned: tuple[PlannedSlot, ...], early: float, steps: list[float]
) -> None:
    """Started on time it runs exactly to plan; started early, it runs that early up to the
    first gap or the closing, and exactly to plan from there."""
    tt = Timetable.new(planned)
    now = planned[0].start - early - 60.0
    if early:
        tt, _ = tt.advance(planned[0].start - early)
        tt, _ = tt.apply(Start(), planned[0].start - early)
    for dt in [*steps, 10 * 24 * 3600.0]:
        now = max(now + dt, planned[0].start - early)
        tt, cues = tt.advance(now)
        for cue in cues:
            if isinstance(cue, SlotStarted) and cue.reason == "plan":
                slot = next(s for s in planned if s.index == cue.slot_index)
                assert cue.at == slot.start
    assert tt.ended
    rows = tt.expected(now)
    on_plan = False
    for prev, r in zip([None, *rows], rows, strict=False):
        if prev is not None and (r.slot.kind == "closing" or r.planned_start > prev.planned_end):
            on_plan = True
        want = r.planned_start if on_plan else r.planned_start - early
        if r.state == "passed":  # on and off the air between two wake-ups: never seen
            continue
        assert r.actual_start == pytest.approx(want, abs=EPS), r.slot.index
    assert tt.ended_at == pytest.approx(planned[-1].end - (0.0 if on_plan else early), abs=EPS)
    # a slot before a gap (or before the closing) stays on air until the next one starts
    for a, b in itertools.pairwise(rows):
        if "passed" not in (a.state, b.state):
            assert a.actual_end == b.actual_start


@settings(max_examples=200, deadline=None)
@given(planned=plans(), at=st.floats(-600, 4 * 3600), hold=st.floats(0, 3600))
def test_a_hold_shifts_the_rest_of_the_show_by_the_held_time(
    planned: tuple[PlannedSlot, ...], at: float, hold: float
) -> None:
    tt, _ = Timetable.new(planned).advance(planned[0].start + at)
    now = planned[0].start + at
    if tt.on_air is None:
        return
    before = tt.status(now)
    starts = upcoming_starts(tt, now)
    held, _ = tt.apply(Hold(), now)
    assert held.next_deadline(now + hold) is None
    assert held.advance(now + hold)[1] == []
    assert held.status(now + hold).time_left == pytest.approx(before.time_left, abs=EPS)
    assert_not_earlier(starts, upcoming_starts(held, now + hold))
    resumed, _ = held.apply(Resume(), now + hold)
    after = resumed.status(now + hold)
    assert after.time_left == pytest.approx(before.time_left, abs=EPS)
    assert after.ends_at is not None
    assert before.ends_at is not None
    assert after.ends_at == pytest.approx(before.ends_at + hold, abs=EPS)
    assert_not_earlier(starts, upcoming_starts(resumed, now + hold))


@settings(max_examples=200, deadline=None)
@given(planned=plans(), at=st.floats(-3600, 6 * 3600), jump=st.floats(0, 6 * 3600))
def test_catch_up_equals_stepping_through(
    planned: tuple[PlannedSlot, ...], at: float, jump: float
) -> None:
    """One late advance lands in the same state as advancing at every deadline on the way."""
    tt, _ = Timetable.new(planned).advance(at)
    leapt, cues = tt.advance(at + jump)
    stepped = tt
    while (deadline := stepped.next_deadline(at)) is not None and deadline <= at + jump:
        stepped, _ = stepped.advance(deadline)
    # ... except that the slots it went past unseen (a freeze across their whole span) are
    # passed over: they never went on air
    unseen = {
        p
        for p, (a, b) in enumerate(zip(tt.runs, stepped.runs, strict=True))
        if a.actual_start is None
        and b.actual_start is not None
        and b.actual_end is not None
        and b.actual_end > b.actual_start
        and p != stepped.position
    }
    before = {p for p, r in enumerate(tt.runs) if r.passed}
    assert {p for p, r in enumerate(leapt.runs) if r.passed} == before | unseen
    assert replace(leapt, runs=stepped.runs) == stepped
    assert sum(isinstance(c, SlotStarted) for c in cues) <= 1
