"""The show engine on a virtual clock, against an in-memory recording OBS.

These tests drive the real `Show` loop; only time is virtual (a 110-minute show runs
in a fraction of a second) and OBS is a recorder that remembers every switch. Tests
over a real socket (the simulated OBS, real OBS) are in test_modes.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from showcaller.clock import VirtualClock
from showcaller.config import EventConfig, ResolvedSlot, load_config
from showcaller.obs.events import ProgramSceneChanged
from showcaller.show.engine import Show
from showcaller.show.hostcommands import End, Message, Trouble
from showcaller.show.journal import Journal, last_state, read_journal
from showcaller.show.plan import ShowPlan
from showcaller.show.planrecord import plan_record
from showcaller.show.showtime import ShowTime
from showcaller.show.state import Mark, Mode
from showcaller.show.timetable import (
    Back,
    Extend,
    Jump,
    Next,
    PlannedSlot,
    Skip,
    Timetable,
    Unskip,
    plan_hash,
)
from showcaller.stage.textfields import cue_texts
from tests.recording_obs import RecordingOBS

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


_OPEN_JOURNALS: list[Journal] = []


@pytest.fixture(autouse=True)
def _close_journals() -> Iterator[None]:
    yield
    while _OPEN_JOURNALS:
        _OPEN_JOURNALS.pop().close()


def planned_slots(cfg: EventConfig) -> tuple[list[ResolvedSlot], list[PlannedSlot]]:
    plan = ShowPlan.of(cfg)
    return list(plan.slots), list(plan.planned)


def _config(tmp_path: Path, edit: Callable[[str], str] | None = None) -> EventConfig:
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "event.toml"
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return load_config(path)


async def _cue_out() -> None:
    """Let the cue a command caused reach the recorder: a command is answered at once, and
    the engine publishes the new slot once OBS answered its cue (a task of its own)."""
    for _ in range(5):
        await asyncio.sleep(0)


def _show(
    cfg: EventConfig,
    tmp_path: Path,
    *,
    start_before: float = 60.0,
    missing: Sequence[str] = (),
    timetable: Timetable | None = None,
    clock: VirtualClock | None = None,
    trouble: bool = False,
) -> tuple[Show, RecordingOBS, VirtualClock]:
    plan = ShowPlan.of(cfg)
    clock = clock or VirtualClock(plan.origin - timedelta(seconds=start_before), autojump=True)
    scenes = [s.scene for s in plan.slots] + [cfg.scenes.trouble or "Trouble"]
    obs = RecordingOBS(clock, scenes, missing=missing)
    journal = Journal(tmp_path / "journal.jsonl", clock, plan.hash).open()
    _OPEN_JOURNALS.append(journal)
    show = Show(
        plan,
        obs,
        ShowTime(clock, plan.origin),
        journal,
        mode=Mode.LIVE,
        trouble_scene=cfg.scenes.trouble,
        cue_texts=functools.partial(cue_texts, cfg),
        plan_record=plan_record(cfg, plan),
        timetable=timetable,
        lead=False,
        trouble=trouble,
        tick=30.0,  # the countdown tick does not matter here; fewer wake-ups keep the test quick
    )
    return show, obs, clock


def _all_auto(text: str) -> str:
    return re.sub(r"(?m)^end = \d+", "end = 'auto'", text)


def _planned_switches(cfg: EventConfig, lead_in: float) -> list[tuple[float, str]]:
    resolved = cfg.slots_resolved()
    return [(lead_in + (s.start - resolved[0].start).total_seconds(), s.scene) for s in resolved]


async def test_a_whole_show_switches_every_scene_on_the_planned_second(tmp_path: Path) -> None:
    cfg = _config(tmp_path, _all_auto)
    show, obs, _clock = _show(cfg, tmp_path)
    report = await asyncio.wait_for(show.run(), 10)
    resolved = cfg.slots_resolved()
    # The clock started a minute before the first slot; every slot ends "auto".
    assert obs.switches == _planned_switches(cfg, 60.0)
    assert report.ended
    assert report.ok
    assert obs.texts["Lower Third Title"] == resolved[-1].title


async def test_a_grace_talk_overruns_by_its_grace_and_the_qa_absorbs_it(tmp_path: Path) -> None:
    cfg = _config(tmp_path)  # talks end with `end = 60`: warn, wait 60 s, then move on
    show, obs, _clock = _show(cfg, tmp_path)
    report = await asyncio.wait_for(show.run(), 10)
    planned = dict(enumerate(_planned_switches(cfg, 60.0)))
    actual = dict(enumerate(obs.switches))
    assert actual[2] == planned[2]  # the first talk starts on time
    assert actual[3][0] == planned[3][0] + 60  # its Q&A starts a minute late
    assert actual[4] == planned[4]  # and is a minute shorter: the second talk is on time
    # The grace at work is said to the host, and is not one of the report's warnings.
    assert any("next slot in 60 s" in m.text and m.level == "info" for m in show.messages)
    assert not any("next slot in 60 s" in w for w in report.warnings), report.warnings
    assert obs.texts["Lower Third Hashtag"] == "#mlct"


async def test_lower_third_shows_the_speaker_while_their_talk_is_on(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, obs, _clock = _show(cfg, tmp_path)
    seen: list[tuple[str, str]] = []
    talk = next(s for s in cfg.slots_resolved() if s.kind == "talk")
    show.on_state(
        lambda st: (
            seen.append((st.on_air.title, obs.texts.get("Lower Third Name", "")))
            if st.on_air
            else None
        )
    )
    await asyncio.wait_for(show.run(), 10)
    names = {name for title, name in seen if title == talk.title}
    assert names == {f"{talk.speakers[0].name} ({talk.speakers[0].affiliation})"}


async def test_a_manual_end_waits_for_the_host_then_next_moves_on(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        lambda t: t.replace('end = "auto"              # or "manual"', 'end = "manual"  #'),
    )
    assert cfg.slots_resolved()[-1].end_mode == "manual"
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    closing_end = (
        60.0 + (cfg.slots_resolved()[-1].end - cfg.slots_resolved()[0].start).total_seconds()
    )
    while clock.monotonic() < closing_end + 600:  # ten minutes past the closing's end
        await clock.sleep_until(clock.monotonic() + 30)
    assert not runner.done(), "a manual slot must wait for the host"
    assert show.state.waiting_for_host
    result = await show.submit(Next())
    assert result.ok, result.message
    report = await asyncio.wait_for(runner, 5)
    assert report.ended
    assert any("waiting for the host" in w for w in report.warnings)


async def test_a_bad_command_is_refused_and_the_show_goes_on(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(30)  # still before the first slot
    refused = await show.submit(Back())
    assert not refused.ok
    assert refused.message
    nonsense = await show.submit("launch the rockets")
    assert not nonsense.ok
    out_of_range = await show.submit(Jump(99))
    assert not out_of_range.ok
    report = await asyncio.wait_for(runner, 10)
    assert report.ended
    assert len(obs.switches) == len(cfg.slots_resolved())


async def test_a_missing_scene_is_a_problem_but_the_show_goes_on(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, obs, _clock = _show(cfg, tmp_path, missing=["Break"])
    report = await asyncio.wait_for(show.run(), 10)
    assert report.ended
    assert not report.ok
    assert any("Break" in p and "No source was found" in p for p in report.problems)
    assert obs.switches[-1][1] == "Closing"


async def test_a_wall_clock_jump_is_journaled_and_cues_follow_the_wall_clock(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path)
    show, obs, clock = _show(cfg, tmp_path, start_before=10)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(5)
    # NTP steps the wall clock 30 s ahead: the opening (planned 19:30) comes 30 s sooner.
    clock.set_wall(clock.now() + timedelta(seconds=30))
    await asyncio.wait_for(runner, 10)
    entries = list(read_journal(tmp_path / "journal.jsonl"))
    anchors = [e for e in entries if e.kind == "anchor"]
    assert len(anchors) == 1
    assert anchors[0].data["jump_seconds"] == pytest.approx(30, abs=1.5)
    resolved = cfg.slots_resolved()
    opening_planned = 10 + (resolved[1].start - resolved[0].start).total_seconds()
    opening_switch = next(t for t, scene in obs.switches if scene == resolved[1].scene)
    assert opening_switch == pytest.approx(opening_planned - 30, abs=1.5)


async def test_resuming_from_the_journal_repeats_no_cue(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    resolved, planned = planned_slots(cfg)
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    third_talk_start = 60 + (resolved[7].start - resolved[0].start).total_seconds()
    await clock.sleep_until(third_talk_start + 120)  # two minutes into the third talk
    runner.cancel()  # as abrupt as the loop allows: the journal is all that is left
    with pytest.raises(asyncio.CancelledError):
        await runner
    _OPEN_JOURNALS[-1].close()
    first_run = list(obs.switches)

    point = last_state(tmp_path / "journal.jsonl", plan_hash(planned))
    assert point is not None
    assert point.scene == resolved[7].scene
    resumed = Timetable.from_state(planned, dict(point.state))
    show2, obs2, _ = _show(cfg, tmp_path, timetable=resumed, clock=clock)
    obs2.program = obs.program
    report = await asyncio.wait_for(show2.run(), 10)
    second_run = obs2.switches
    assert [s for _, s in second_run] == [s.scene for s in resolved[8:]]
    assert report.ended
    assert len(first_run) + len(second_run) == len(resolved)


async def test_the_journal_has_one_flushed_line_per_cue_with_both_times(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, _obs, _clock = _show(cfg, tmp_path)
    await asyncio.wait_for(show.run(), 10)
    lines = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    cues = [r for r in records if r["kind"] == "cue" and r["cue"] == "slot_started"]
    assert [c["slot"] for c in cues] == list(range(len(cfg.slots_resolved())))
    for record in records:
        assert {"wall", "mono", "plan", "kind"} <= record.keys()


async def test_an_obs_event_that_arrives_after_the_show_has_ended_is_ignored(
    tmp_path: Path,
) -> None:
    # The client runs async listeners as tasks: one can start after run() returned
    # and the journal closed (seen in CI when a live show was detached).
    cfg = _config(tmp_path, _all_auto)
    show, obs, _clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await asyncio.sleep(0)
    late_listener = obs._listeners[0]
    report = await asyncio.wait_for(runner, 10)
    _OPEN_JOURNALS[-1].close()
    result = late_listener(ProgramSceneChanged(scene="X"))
    if result is not None:
        await result
    show.warn("a late warning")
    assert "a late warning" in report.problems


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is full)")
async def test_a_disk_that_fills_up_and_frees_again_still_resumes_at_the_right_slot(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path)
    resolved, planned = planned_slots(cfg)
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await asyncio.sleep(0)
    journal_fd = _OPEN_JOURNALS[-1]._fd
    assert journal_fd is not None
    saved = os.dup(journal_fd)
    full = os.open("/dev/full", os.O_WRONLY)
    third_talk = 60 + (resolved[7].start - resolved[0].start).total_seconds()
    try:
        await clock.sleep_until(third_talk - 300)
        os.dup2(full, journal_fd)  # the recording filled the disk: the third talk's cue is lost
        await clock.sleep_until(third_talk + 60)
        os.dup2(saved, journal_fd)  # the host freed some space
        await clock.sleep_until(third_talk + 120)
    finally:
        os.close(full)
        os.close(saved)
    runner.cancel()  # then showcaller crashed
    with pytest.raises(asyncio.CancelledError):
        await runner
    _OPEN_JOURNALS[-1].close()
    full_problems = [p for p in show.report.problems if "cannot write the show journal" in p]
    assert len(full_problems) == 1, show.report.problems
    assert [s for _, s in obs.switches] == [s.scene for s in resolved[:8]]  # the show went on

    point = last_state(tmp_path / "journal.jsonl", plan_hash(planned))
    assert point is not None
    assert point.scene == resolved[7].scene  # not the slot before the disk filled up
    show2, obs2, _ = _show(
        cfg, tmp_path, timetable=Timetable.from_state(planned, dict(point.state)), clock=clock
    )
    obs2.program = obs.program
    await asyncio.wait_for(show2.run(), 10)
    assert [s for _, s in obs2.switches] == [s.scene for s in resolved[8:]]


async def test_a_title_fixed_in_the_file_mid_show_resumes_and_shows_the_fix(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path)
    resolved, _ = planned_slots(cfg)
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    second_talk = 60 + (resolved[4].start - resolved[0].start).total_seconds()
    await clock.sleep_until(second_talk - 120)  # during the first talk's Q&A
    runner.cancel()  # the host stops showcaller to fix a typo in the next title
    with pytest.raises(asyncio.CancelledError):
        await runner
    _OPEN_JOURNALS[-1].close()

    fixed = _config(
        tmp_path,
        lambda t: t.replace("Feature Store を半年運用してみた", "Feature Store を一年運用してみた"),
    )
    _, fixed_planned = planned_slots(fixed)
    point = last_state(tmp_path / "journal.jsonl", plan_hash(fixed_planned))
    assert point is not None  # the same timing: the journal still fits
    resumed = Timetable.from_state(fixed_planned, dict(point.state))
    show2, obs2, _ = _show(fixed, tmp_path, timetable=resumed, clock=clock)
    obs2.program = obs.program
    await asyncio.wait_for(show2.run(), 10)
    assert [s for _, s in obs2.switches] == [s.scene for s in resolved[4:]]  # none repeated
    assert "Feature Store を一年運用してみた" in obs2.text_history


# ------------------------------------------------------------ the host's commands


async def test_trouble_holds_the_slot_clock_until_it_is_off(tmp_path: Path) -> None:
    """Issue 19: `t` left the slot's clock running; the host had to press `h` too."""
    cfg = _config(tmp_path, _all_auto)
    trouble = cfg.scenes.trouble
    slots = cfg.slots_resolved()
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(60 + 1)  # the first slot is on air
    answer = await show.submit(Trouble())
    assert answer.ok
    assert "held until trouble is off" in answer.message
    assert obs.program == trouble
    assert show.state.held is True
    left = show.state.time_left_s
    assert left is not None
    assert any("held until trouble is off" in m.text for m in show.messages)
    # Past the slot's planned end: nothing moves while trouble is on air.
    second = (slots[1].start - slots[0].start).total_seconds()
    await clock.sleep_until(60 + second + 120)
    assert show.state.on_air is not None
    assert show.state.on_air.index == 0
    assert show.state.time_left_s == pytest.approx(left, abs=0.01)
    assert obs.program == trouble
    off = await show.submit(Trouble(on=False))
    assert off.ok
    assert "runs again" in off.message
    assert show.state.held is False
    assert obs.program == slots[0].scene
    # the slot got back the time trouble held it
    assert show.state.time_left_s == pytest.approx(left, abs=0.01)
    report = await asyncio.wait_for(runner, 10)
    assert report.ended
    assert show.state.trouble is False


async def test_a_slot_change_in_trouble_keeps_the_trouble_scene(tmp_path: Path) -> None:
    cfg = _config(tmp_path, _all_auto)
    trouble = cfg.scenes.trouble
    slots = cfg.slots_resolved()
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(60 + 1)
    assert (await show.submit(Trouble())).ok
    assert (await show.submit(Next())).ok  # the host moves on while in trouble
    await _cue_out()
    assert show.state.on_air is not None
    assert show.state.on_air.index == 1
    assert obs.program == trouble
    assert slots[1].title in obs.text_history
    assert (await show.submit(Trouble(on=False))).ok
    assert obs.program == slots[1].scene
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_a_show_resumed_in_trouble_keeps_the_trouble_scene_on_air(tmp_path: Path) -> None:
    cfg = _config(tmp_path, _all_auto)
    show, obs, clock = _show(cfg, tmp_path, trouble=True)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(60 + 1)
    assert obs.program == cfg.scenes.trouble
    await show.resync()
    assert obs.program == cfg.scenes.trouble
    assert (await show.submit(Trouble())).ok  # toggles it off
    assert obs.program == cfg.slots_resolved()[0].scene
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_message_is_in_the_state_and_end_stops_the_show_early(tmp_path: Path) -> None:
    cfg = _config(tmp_path, _all_auto)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(60 + 1)
    assert (await show.submit(Message("あと5分"))).ok
    assert show.state.message == "あと5分"
    ended = await show.submit(End())
    assert ended.ok, ended.message
    report = await asyncio.wait_for(runner, 5)
    assert report.ended
    assert len(report.cues) == 1
    after = await asyncio.wait_for(show.submit(Next()), 1)
    assert not after.ok
    assert "the show is not running" in after.message
    records = list(read_journal(tmp_path / "journal.jsonl"))
    states = [e.data for e in records if e.kind == "state"]
    assert states[-1]["ended"] is True
    point = last_state(tmp_path / "journal.jsonl", plan_hash(planned_slots(cfg)[1]))
    assert point is not None
    assert point.ended


async def test_a_timed_mark_runs_once_in_the_deadline_loop_and_is_journaled(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path, _all_auto)
    show, _obs, clock = _show(cfg, tmp_path)
    ran: list[float] = []

    async def action() -> list[str]:
        ran.append(clock.monotonic())
        return ["a note from the mark"]

    mark = show.add_mark(Mark("test_mark", "the test mark", action, at=-30.0))
    skipped = show.add_mark(
        Mark("done_mark", "a mark done before a restart", action, at=-50.0),
        done_before={"done_mark"},
    )
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(60 + 1)
    assert ran == [30.0]  # 60 s before the first slot plus -30 show seconds
    assert mark.status == "done"
    assert skipped.status == "done"
    assert [m.status for m in show.state.marks] == ["done", "done"]
    show.detach()
    report = await asyncio.wait_for(runner, 5)
    assert "a note from the mark" in report.problems
    marks = [e.data for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "mark"]
    assert [(m["mark"], m["status"]) for m in marks] == [("test_mark", "done")]


def test_the_speaker_countdown_warns_five_minutes_before_a_talk_ends_one_before_an_lt(
    tmp_path: Path,
) -> None:
    from showcaller.show.engine import warning_before

    cfg = _config(tmp_path)
    by_kind = {s.kind: warning_before(s) for s in cfg.slots_resolved()}
    assert by_kind["talk"] == 300  # 15-minute talks
    assert by_kind["lt"] == 60  # 5-minute lightning talks


# ------------------------------------------------ issue 19: the night as the host lives it
# Each test asserts what the published state (the `show` part of /api/state) says.

_TALK = 2  # 小さな LLM を手元で動かす, 19:35-19:50 (end = 60: one minute of grace)
_QA = 3  # 質疑応答, 19:50-19:55


def _at(cfg: EventConfig, index: int, plus: float = 0.0) -> float:
    """The virtual clock's second of slot `index`'s planned start (the clock starts at -60)."""
    resolved = cfg.slots_resolved()
    return 60 + (resolved[index].start - resolved[0].start).total_seconds() + plus


async def test_a_restart_mid_talk_is_on_air_at_once_and_says_it_resumed(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    resolved, planned = planned_slots(cfg)
    show, _obs, clock = _show(cfg, tmp_path)
    checked: list[float] = []

    async def check_speakers() -> list[str]:
        checked.append(clock.monotonic())
        return []

    show.add_mark(Mark("speaker_checks", "every speaker is checked", check_speakers, at=-30.0))
    show.add_mark(Mark("stream_start", "the stream starts", check_speakers, at=-50.0))
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 300))
    assert (await show.submit(Message("あと5分でまとめてください"))).ok
    runner.cancel()  # kill -9 mid-talk
    with pytest.raises(asyncio.CancelledError):
        await runner
    _OPEN_JOURNALS[-1].close()
    assert len(checked) == 2  # the checks, the stream
    await clock.sleep_until(_at(cfg, _TALK, 395))  # 95 s later, showcaller starts again

    point = last_state(tmp_path / "journal.jsonl", plan_hash(planned))
    assert point is not None
    resumed = Timetable.from_state(planned, dict(point.state))
    show2, obs2, _ = _show(cfg, tmp_path, timetable=resumed, clock=clock)
    # The very first state: on air, the talk, the timer's message of this talk.
    first = show2.state
    assert first.phase == "on_air"
    assert first.on_air is not None
    assert first.on_air.index == _TALK
    assert first.message == "あと5分でまとめてください"
    assert first.message_slot == _TALK
    # The checks "before the show" were done before the restart: not run again mid-show.
    mark = show2.add_mark(
        Mark("speaker_checks", "every speaker is checked", check_speakers, at=-30.0)
    )
    assert mark.status == "done"
    # ... but the stream's start is looked at again (a fresh OBS is not streaming).
    stream = show2.add_mark(
        Mark("stream_start", "the stream starts", check_speakers, -60.0, again_after_restart=True)
    )
    assert stream.status == "due"
    assert obs2.program == "Scene"  # the built-in OBS starts afresh
    runner2 = asyncio.create_task(show2.run())
    await clock.sleep_until(_at(cfg, _TALK, 396))
    assert obs2.switches[0] == (_at(cfg, _TALK, 395), resolved[_TALK].scene)  # at once
    assert resolved[_TALK].title in obs2.text_history
    state = show2.state
    assert state.resumed is not None
    assert state.resumed.slot == _TALK
    assert state.resumed.away_s == pytest.approx(95, abs=1)
    said = [m.text for m in show2.messages]
    assert f"resumed at slot 3/13 {resolved[_TALK].title} after 95 s" in said
    assert len(checked) == 3  # only the stream's start was looked at again
    # The talk's message does not outlive the talk.
    await clock.sleep_until(_at(cfg, _QA, 61))
    assert show2.state.on_air is not None
    assert show2.state.on_air.index == _QA
    assert show2.state.message == ""
    assert show2.state.message_slot is None
    show2.detach()
    await asyncio.wait_for(runner2, 5)
    messages = [e.data for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "message"]
    assert messages[-1]["text"] == ""
    assert messages[-1]["reason"] == "slot changed"


async def test_a_pinned_message_stays_across_slot_changes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 60))
    answer = await show.submit(Message("音声が途切れています", pin=True))
    assert "until you clear it" in answer.message
    assert (await show.submit(Next())).ok
    await _cue_out()
    assert show.state.on_air is not None
    assert show.state.on_air.index == _QA
    assert show.state.message == "音声が途切れています"
    assert show.state.message_pinned is True
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_skip_next_during_a_talk_names_the_slot_and_leaves_no_false_overtime(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path)
    resolved, _ = planned_slots(cfg)
    show, obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 120))
    answer = await show.submit(Skip())
    assert answer.ok
    assert answer.message.startswith("skipped 4/13 質疑応答; next: 5/13 Feature Store")
    assert any(m.text == answer.message for m in show.messages)
    assert show.state.next is not None
    assert show.state.next.index == 4
    # The talk ends by its own rule (its end, then one minute of grace): never later.
    await clock.sleep_until(_at(cfg, _QA, 30))
    assert show.state.on_air is not None
    assert show.state.on_air.index == _TALK
    assert show.state.time_left_s is not None
    assert show.state.time_left_s >= -60
    await clock.sleep_until(_at(cfg, _QA, 61))
    assert show.state.on_air is not None
    assert show.state.on_air.index == 4
    assert obs.switches[-1] == (_at(cfg, _QA, 60), resolved[4].scene)
    assert show.state.time_left_s is not None
    assert show.state.time_left_s > 14 * 60
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_unskip_undoes_a_skip_and_says_when_the_slot_comes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 120))
    assert (await show.submit(Skip())).ok
    assert [s.state for s in show.state.slots if s.index == _QA] == ["skipped"]
    answer = await show.submit(Unskip(_QA))
    assert answer.ok
    assert answer.message == "unskipped 4/13 質疑応答: back in the show at 19:50"
    assert [s.state for s in show.state.slots if s.index == _QA] == ["upcoming"]
    refused = await show.submit(Unskip(_QA))
    assert not refused.ok
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_a_slot_passed_while_frozen_is_journaled_said_and_reported(tmp_path: Path) -> None:
    """Issue 19: a slot that passed while showcaller was frozen (SIGSTOP, a laptop lid) was
    journaled as run and dropped from the end-of-show table without a word."""
    cfg = _config(tmp_path, _all_auto)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 600))
    clock.advance(_at(cfg, 4, 120) - clock.monotonic())  # frozen across the whole Q&A
    await clock.sleep_until(_at(cfg, 4, 121))
    state = show.state
    assert state.on_air is not None
    assert state.on_air.index == 4
    assert [s.state for s in state.slots if s.index == _QA] == ["passed"]
    warned = [m for m in show.messages if "4/13 質疑応答 was passed over" in m.text]
    assert len(warned) == 1
    assert warned[0].level == "warning"
    assert "19:50–19:55" in warned[0].text
    assert show.report.passed == [_QA]
    show.detach()
    await asyncio.wait_for(runner, 5)
    states = [e.data for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "state"]
    qa = states[-1]["timetable"]["slots"][_QA]
    assert (qa["passed"], qa["skipped"], qa["actual_start"], qa["actual_end"]) == (
        True,
        False,
        None,
        None,
    )
    # and the report, from the journal alone, says so
    from showcaller.interop.report import build, markdown
    from showcaller.interop.runs import last_run

    _OPEN_JOURNALS[-1].close()
    text = markdown(build(last_run(tmp_path / "journal.jsonl")))
    (row,) = [line for line in text.splitlines() if line.startswith("| 4 |")]
    assert "**passed over** (never on air)" in row


async def test_jump_says_where_it_went_and_which_slots_it_passed_over(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 60))
    answer = await show.submit(Jump(5))
    assert answer.ok
    assert answer.message == (
        "jumped to 6/13 質疑応答 (passed over 4/13 質疑応答, 5/13 Feature Store を半年運用してみた)"
    )
    assert [s.state for s in show.state.slots if s.index in (3, 4)] == ["passed", "passed"]
    assert (
        sum("was passed over" in m.text and "jumped past it" in m.text for m in show.messages) == 2
    )
    show.detach()
    await asyncio.wait_for(runner, 5)


def test_surfaces_send_unskip_and_pinned_messages_as_dicts() -> None:
    from showcaller.show.hostcommands import BadCommand, parse_command

    assert parse_command({"command": "unskip", "slot": 4}) == Unskip(3)
    assert parse_command({"command": "unskip"}) == Unskip(None)
    assert parse_command({"command": "message", "text": "x", "pin": True}) == Message("x", True)
    with pytest.raises(BadCommand, match="pin"):
        parse_command({"command": "message", "text": "x", "pin": "yes"})


async def test_the_report_lists_the_hosts_commands_in_words(tmp_path: Path) -> None:
    from showcaller.interop.report import build, markdown
    from showcaller.interop.runs import last_run

    cfg = _config(tmp_path)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 120))
    extended = await show.submit(Extend(60))
    assert extended.message == "+1 min for 3/13 小さな LLM を手元で動かす; ends at 19:51"
    assert (await show.submit(Skip())).ok
    assert not (await show.submit(Jump(99))).ok
    show.detach()
    await asyncio.wait_for(runner, 5)
    _OPEN_JOURNALS[-1].close()
    said = [c.text for c in build(last_run(tmp_path / "journal.jsonl")).commands]
    assert said[0] == "+1 min for 3/13 小さな LLM を手元で動かす; ends at 19:51 (from api)"
    assert said[1].startswith("skipped 4/13 質疑応答; next: 5/13 Feature Store")
    assert (
        said[2] == "jump(slot_index=99) (from api) — refused: there is no slot 100 (slots 1 to 13)"
    )
    assert "extend(seconds=" not in markdown(build(last_run(tmp_path / "journal.jsonl")))


async def test_a_late_answer_never_holds_the_next_cue_and_a_stale_switch_is_put_right(
    tmp_path: Path,
) -> None:
    # OBS runs requests in no fixed order: the first slot's cue is carried out only after
    # the second slot's (held here until released). The second cue goes out on time all
    # the same (the engine waits for the first one's answer at most 1 s), and once the
    # first one's switch lands late, the newest cue is sent again.
    cfg = _config(tmp_path, _all_auto)
    slots = cfg.slots_resolved()
    assert slots[0].scene != slots[1].scene
    show, obs, clock = _show(cfg, tmp_path)
    release = asyncio.Event()
    carry_out = obs.cue
    asked: list[str] = []

    async def late_first(texts: Sequence[tuple[str, str]], scene: str) -> list[Any]:
        asked.append(scene)
        if len(asked) == 1:
            await release.wait()
        return await carry_out(texts, scene)

    obs.cue = late_first  # type: ignore[method-assign]
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, 1, 1))
    assert obs.program == slots[1].scene
    assert obs.switches[-1] == (_at(cfg, 1), slots[1].scene)  # on time, the first still out
    release.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert [scene for _, scene in obs.switches[-3:]] == [
        slots[1].scene,
        slots[0].scene,  # the late one
        slots[1].scene,  # put right
    ]
    assert asked == [slots[0].scene, slots[1].scene, slots[1].scene]
    assert any("carried out an earlier cue after a later one" in w for w in show.report.warnings)
    show.detach()
    await asyncio.wait_for(runner, 5)


async def test_a_restart_after_plus_one_minute_and_hold_keeps_them(tmp_path: Path) -> None:
    # Seen living the night: +1 min twice, kill -9, restart — the talk's end went back to
    # its planned time on the speaker's timer (a command with no cue left no state line).
    cfg = _config(tmp_path)
    _, planned = planned_slots(cfg)
    show, _obs, clock = _show(cfg, tmp_path)
    runner = asyncio.create_task(show.run())
    await clock.sleep_until(_at(cfg, _TALK, 300))
    assert (await show.submit(Extend(60))).ok
    assert (await show.submit(Extend(60))).ok
    ends = {s.index: s.expected_end for s in show.state.slots}[_TALK]
    runner.cancel()  # kill -9 mid-talk
    with pytest.raises(asyncio.CancelledError):
        await runner
    _OPEN_JOURNALS[-1].close()

    point = last_state(tmp_path / "journal.jsonl", plan_hash(planned))
    assert point is not None
    resumed = Timetable.from_state(planned, dict(point.state))
    show2, _, _ = _show(cfg, tmp_path, timetable=resumed, clock=clock)
    assert {s.index: s.expected_end for s in show2.state.slots}[_TALK] == ends
    show2.detach()
