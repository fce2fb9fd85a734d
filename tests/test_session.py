"""The show session over a real socket (the simulated OBS): attachments, state, commands, marks.

Each test runs a real rehearsal (or a live show on a virtual-free, fast plan) with
`on_session` attaching what a surface would: a follower of the state feed that sends
commands when the show reaches a point. The journal is read back as the record of the show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from showcaller.config import OBS, EventConfig, load_config
from showcaller.modes import RehearsalOptions, rehearse
from showcaller.obs.sim import SimulatedOBS
from showcaller.show.hostcommands import BadCommand, Extend, Message, parse_command
from showcaller.show.journal import Kind, read_journal
from showcaller.show.session import ShowSession, follow
from showcaller.show.state import CommandResult, SessionState
from showcaller.show.timetable import Jump, Skip
from tests.sim_fixtures import SIM_PASSWORD, seed_event, sim  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def _cut_example(tmp_path: Path, edit: Callable[[str], str] | None = None) -> EventConfig:
    """The example event with Cut transitions, so it can run thousands of times faster."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('transition = "Fade"', 'transition = "Cut"')
    path = tmp_path / "event.toml"
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return load_config(path)


async def _rehearse(
    sim: SimulatedOBS,  # noqa: F811
    cfg: EventConfig,
    tmp_path: Path,
    on_session: Callable[[ShowSession], None] | None = None,
    **options: Any,
) -> Any:
    options.setdefault("speed", 3000)
    obs = OBS.model_validate({"url": sim.url, "password": SIM_PASSWORD})
    return await rehearse(
        cfg,
        RehearsalOptions(obs=obs, journal=tmp_path / "r.jsonl", **options),
        on_session=on_session,
    )


def _records(tmp_path: Path, kind: Kind) -> list[dict[str, Any]]:
    return [dict(e.data) for e in read_journal(tmp_path / "r.jsonl") if e.kind == kind]


def _when(
    session: ShowSession,
    condition: Callable[[SessionState], bool],
    act: Callable[[ShowSession], Any],
    results: list[Any],
) -> None:
    """Attach a surface that, the first time `condition` holds, runs `act` and keeps its result."""

    @contextlib.asynccontextmanager
    async def surface(s: ShowSession) -> AsyncIterator[None]:
        fired = False

        async def watch() -> None:
            nonlocal fired
            async for state in s.feed():
                if not fired and condition(state):
                    fired = True
                    results.append(await act(s))

        task = s.spawn(watch(), "test surface", with_show=False)
        yield
        await task  # the feed ends after the last state

    session.attach("test surface", surface)


def _on_air(index: int) -> Callable[[SessionState], bool]:
    return lambda st: st.show.on_air is not None and st.show.on_air.index >= index


# ------------------------------------------------------------------ attachments


async def test_an_attachment_that_cannot_start_is_one_problem_and_the_show_runs_to_its_end(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)

    @contextlib.asynccontextmanager
    async def broken(_: ShowSession) -> AsyncIterator[None]:
        raise RuntimeError("the web port is taken")
        yield  # pragma: no cover

    report = await _rehearse(sim, cfg, tmp_path, lambda s: s.attach("the web page", broken))
    assert report.ended
    assert len(report.cues) == len(cfg.slots_resolved())
    # A talk that uses its configured grace (`end = 60`) is the plan working: said, never
    # one of the report's warnings (which would drown the real ones).
    assert not [w for w in report.warnings if "reached its end" in w], report.warnings
    overruns = [r for r in _records(tmp_path, Kind.CUE) if r["cue"] == "overrun"]
    assert {r["mode"] for r in overruns} == {"grace"}  # the moments did happen
    assert report.problems == [
        "the web page could not start: unexpected failure: the web port is taken"
    ]


async def test_a_surface_task_that_crashes_mid_show_is_one_problem_and_no_cue_is_lost(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)

    @contextlib.asynccontextmanager
    async def crashing(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            async for state in session.feed():
                if state.show.on_air is not None and state.show.on_air.index == 3:
                    raise ValueError("dashboard bug")

        session.spawn(run(), "the dashboard")
        yield

    report = await _rehearse(sim, cfg, tmp_path, lambda s: s.attach("the dashboard", crashing))
    assert report.ended
    assert [c.slot_index for c in report.cues] == [s.index for s in cfg.slots_resolved()]
    assert report.problems == ["the dashboard failed: unexpected failure: dashboard bug"]


async def test_a_surface_that_hangs_holds_up_neither_the_cues_nor_the_end(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)

    @contextlib.asynccontextmanager
    async def hanging(session: ShowSession) -> AsyncIterator[None]:
        async def run() -> None:
            async for _ in session.feed():
                await asyncio.Event().wait()  # a surface stuck on its first state

        task = session.spawn(run(), "stuck surface", with_show=False)
        yield
        await task  # ... and it waits for it on the way out

    def attach(session: ShowSession) -> None:
        session.attachment_stop_s = 0.5
        session.attach("the stuck surface", hanging)

    report = await asyncio.wait_for(_rehearse(sim, cfg, tmp_path, attach), 30)
    assert report.ended
    assert len(report.cues) == len(cfg.slots_resolved())
    assert report.problems == ["the stuck surface did not stop within 0.5 s"]


async def test_every_warning_reaches_a_surface_even_when_it_looks_rarely(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # 30 warnings at once (the old console stopped after the 20th): numbered, all kept.
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    seen: list[int] = []
    texts: list[str] = []

    def on_state(state: SessionState) -> None:
        for m in state.messages:
            if m.seq not in seen:
                seen.append(m.seq)
                texts.append(m.text)

    def attach(session: ShowSession) -> None:
        for n in range(30):
            session.show.warn(f"warning number {n}", problem=False)
        session.attach("follower", lambda s: follow(s, on_state))

    report = await _rehearse(sim, cfg, tmp_path, attach)
    assert report.ended
    assert [t for t in texts if t.startswith("warning number")] == [
        f"warning number {n}" for n in range(30)
    ]
    assert seen == sorted(seen) == list(range(1, len(seen) + 1))


# ------------------------------------------------------------------------ state


async def test_the_published_state_is_json_with_link_outputs_marks_and_messages(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    states: list[dict[str, Any]] = []

    def attach(session: ShowSession) -> None:
        _when(
            session,
            _on_air(2),
            lambda s: asyncio.sleep(0, states.append(json.loads(json.dumps(s.state.to_json())))),
            [],
        )

    report = await _rehearse(sim, cfg, tmp_path, attach, record=True, speed=600)
    assert report.ok, report.problems
    (state,) = states
    assert state["link"] == "ready"
    assert state["show"]["on_air"]["index"] >= 2
    assert state["show"]["mode"] == "rehearsal"
    assert state["record"]["active"] is True
    assert state["stream"]["active"] is False
    marks = {m["kind"]: m["status"] for m in state["show"]["marks"]}
    assert marks["record_start"] == "done"
    assert marks["speaker_checks"] == "done"
    cues = [m for m in state["messages"] if m["level"] == "cue"]
    assert [m["slot"] for m in cues] == list(range(len(cues)))
    assert {m["topic"] for m in cues} == {"cue"}
    assert len(state["show"]["slots"]) == len(cfg.slots_resolved())


# --------------------------------------------------------------------- commands


def test_commands_from_plain_dicts_and_the_errors_a_surface_gets() -> None:
    assert parse_command({"command": "extend", "minutes": 2}) == Extend(120.0)
    assert parse_command({"command": "jump", "slot": 3}) == Jump(2)
    assert parse_command({"command": "skip"}) == Skip(None)
    assert parse_command({"command": "message", "text": "  あと\n5分  "}) == Message("あと 5分")
    for bad, says in [
        ({"command": "launch"}, "unknown command 'launch'"),
        ({"command": "extend"}, 'give "minutes" or "seconds"'),
        ({"command": "extend", "minutes": "two"}, "minutes must be a number, not 'two'"),
        ({"command": "extend", "minutes": True}, "minutes must be a number"),
        ({"command": "jump", "slot": 0}, "slot must be a slot number (1 = the first), not 0"),
        ({"command": "next", "slot": 2}, "next: unknown argument(s) slot (it takes: none)"),
        ({"command": "message", "text": "x" * 300}, "at most 280"),
        (["next"], 'a command is an object like {"command": "next"}'),
    ]:
        with pytest.raises(BadCommand) as caught:
            parse_command(bad)
        assert says in str(caught.value), (bad, str(caught.value))


async def test_commands_are_journaled_with_their_source_and_bad_ones_leave_the_show_running(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    answers: list[CommandResult] = []
    host_said: list[str] = []

    async def act(s: ShowSession) -> None:
        answers.append(await s.submit({"command": "extend", "minutes": "lots"}, source="web"))
        answers.append(await s.submit({"command": "message", "text": "5 min"}, source="keys"))
        host_said.extend(m.text for m in s.state.messages if m.topic == "host")
        answers.append(await s.submit({"command": "skip"}, source="web"))

    report = await _rehearse(sim, cfg, tmp_path, lambda s: _when(s, _on_air(1), act, []))
    assert report.ended
    assert [a.ok for a in answers] == [False, True, True]
    assert "minutes must be a number" in answers[0].message
    assert host_said == ["host message: 5 min"]
    commands = [(r["command"], r["source"]) for r in _records(tmp_path, Kind.COMMAND)]
    assert commands == [
        ("message(text='5 min', pin=False)", "keys"),
        ("skip(slot_index=None)", "web"),
    ]
    (rejected,) = _records(tmp_path, Kind.REJECTED)
    assert rejected["source"] == "web"
    assert "minutes must be a number" in rejected["reason"]
    # The message belongs to the slot on air: the next slot clears it.
    said, cleared = _records(tmp_path, Kind.MESSAGE)
    assert (said["text"], said["slot"], said["pin"]) == ("5 min", 1, False)
    assert (cleared["text"], cleared["reason"]) == ("", "slot changed")
    # The skipped slot never went on air.
    assert len(report.cues) == len(cfg.slots_resolved()) - 1


async def test_a_command_after_the_show_has_ended_is_refused_at_once(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    sessions: list[ShowSession] = []
    report = await _rehearse(sim, cfg, tmp_path, sessions.append)
    assert report.ended
    result = await asyncio.wait_for(sessions[0].submit({"command": "next"}, source="web"), 1)
    assert not result.ok
    assert "the show is not running" in result.message
    bad = await asyncio.wait_for(sessions[0].submit({"command": "nope"}, source="web"), 1)
    assert not bad.ok


async def test_trouble_puts_the_stand_by_scene_on_air_and_back_to_the_slot_on_air(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    trouble = cfg.scenes.trouble
    assert trouble
    seen: list[tuple[str | None, str | None]] = []

    async def act(s: ShowSession) -> None:
        on = await s.submit({"command": "trouble"}, source="keys")
        seen.append((sim.model.program, s.state.show.on_air.scene if s.state.show.on_air else None))
        await s.submit({"command": "hold"}, source="keys")  # the slot waits while OBS is fixed
        off = await s.submit({"command": "trouble"}, source="keys")
        seen.append((sim.model.program, s.state.show.on_air.scene if s.state.show.on_air else None))
        await s.submit({"command": "resume"}, source="keys")
        assert on.ok, on
        assert off.ok, off

    report = await _rehearse(sim, cfg, tmp_path, lambda s: _when(s, _on_air(2), act, []))
    assert report.ended
    (during, after) = seen
    assert during[0] == trouble
    assert after[0] == after[1] != trouble  # the slot's own scene is back
    assert [r["on"] for r in _records(tmp_path, Kind.TROUBLE)] == [True, False]


async def test_end_stops_the_recording_and_ends_the_show_before_its_plan(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    answers: list[CommandResult] = []

    async def act(s: ShowSession) -> None:
        answers.append(await s.submit({"command": "end"}, source="prompt"))

    report = await _rehearse(
        sim, cfg, tmp_path, lambda s: _when(s, _on_air(3), act, []), record=True, speed=600
    )
    assert answers
    assert answers[0].ok
    assert report.ended
    assert len(report.cues) < len(cfg.slots_resolved())
    assert not sim.model.record.active
    actions = [r["action"] for r in _records(tmp_path, Kind.RECORD)]
    assert actions.count("start") == 1
    assert "stop" in actions
    states = _records(tmp_path, Kind.STATE)
    assert states[-1]["ended"] is True
    # The report: the slot on air when the host ended the show ends there (its bar and
    # its length are whole), and the slots after it did not run.
    from showcaller.interop.report import build
    from showcaller.interop.runs import last_run

    lines = build(last_run(tmp_path / "r.jsonl")).lines
    ran = [ln for ln in lines if ln.start is not None]
    assert ran[-1].slot.index == report.cues[-1].slot_index
    assert all(ln.end is not None and ln.end >= ln.start for ln in ran)
    assert all(ln.start is None for ln in lines[len(ran) :])


# ---------------------------------------------------------------- the journal


async def test_a_recorded_rehearsal_on_the_built_in_obs_journals_start_splits_and_stop(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    cfg = _cut_example(tmp_path)
    seed_event(sim, cfg)
    report = await _rehearse(sim, cfg, tmp_path, record=True, speed=600)
    assert report.ok, report.problems
    records = _records(tmp_path, Kind.RECORD)
    actions = [r["action"] for r in records]
    talks = [s for s in cfg.slots_resolved() if s.kind in ("talk", "lt")]
    assert actions.count("start") == 1
    assert actions.count("split") == len(talks)
    assert [r["slot"] for r in records if r["action"] == "split"] == [s.index for s in talks]
    assert any(r["action"] == "stop" and r["path"] for r in records)
    # OBS's own word: the recording started, and each split made a new file.
    assert "started" in actions
    assert actions.count("file") == len(talks)
    landed = [dict(e.data) for e in read_journal(tmp_path / "r.jsonl") if e.kind == Kind.LANDED]
    assert landed
    assert all(r["late_ms"] is not None for r in landed)
    (mark,) = [r for r in _records(tmp_path, Kind.MARK) if r["mark"] == "record_start"]
    assert mark["status"] == "done"


async def test_a_stream_test_still_unconfirmed_at_the_end_leaves_no_task_and_says_so(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A target OBS cannot stream to: the check after the start would wait 10 s, the
    # rehearsal is over before that. The check is cancelled and awaited (no task left
    # running), the host still learns that the test never went on air, and OBS's own
    # stream settings are back.
    cfg = _cut_example(
        tmp_path,
        lambda t: t.replace(
            'stream_test_server = ""', 'stream_test_server = "udp://127.0.0.1:9/nowhere"'
        ),
    )
    monkeypatch.setenv("SHOWCALLER_REHEARSAL__STREAM_TEST_KEY", "k")
    cfg = load_config(tmp_path / "event.toml")
    seed_event(sim, cfg)
    sim.use_cases.stream_target(server="rtmp://live.example/app", key="the-real-key")
    report = await _rehearse(sim, cfg, tmp_path, stream_test=True, speed=3000)
    assert report.ended
    assert any("the stream test never went on air" in p for p in report.problems), report.problems
    left = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not any("stream" in name for name in left), left
    assert sim.model.stream_service_settings == {
        "server": "rtmp://live.example/app",
        "key": "the-real-key",
    }
    (mark,) = [r for r in _records(tmp_path, Kind.MARK) if r["mark"] == "stream_start"]
    assert mark["status"] == "done"


# ------------------------------------------------------------------ one publish


@contextlib.asynccontextmanager
async def _quiet_session(sim: SimulatedOBS, cfg: EventConfig, tmp_path: Path):  # noqa: F811
    """A session of the example, connected to the sim but not running: nothing else
    bumps its state, so only a publish can wake a feed."""
    from showcaller.clock import SystemClock
    from showcaller.obs.connect import open_obs
    from showcaller.show.engine import Show
    from showcaller.show.journal import Journal
    from showcaller.show.plan import ShowPlan
    from showcaller.show.showtime import ShowTime
    from showcaller.show.state import Mode

    plan = ShowPlan.of(cfg)
    clock = SystemClock()
    async with open_obs(sim.url, SIM_PASSWORD) as conn:
        with Journal(tmp_path / "q.jsonl", clock, plan.hash) as journal:
            show = Show(plan, conn.gateway, ShowTime(clock, plan.origin), journal, mode=Mode.LIVE)
            yield ShowSession(show, conn.gateway, link=conn.link)


async def _next_state(feed: Any) -> SessionState:
    return await asyncio.wait_for(anext(feed), 2.0)


async def test_every_view_an_attachment_publishes_reaches_a_state_feed(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    from showcaller.show.state import CheckResult, HealthView, NotifyView, OutputView, Views

    health = HealthView(
        "ok", True, False, 0.0, 2500.0, 0, 0.0, 0, 0.0, 1.0, 2.0, None, None, None, (), 10.0
    )
    samples: dict[str, Any] = {
        "stream": OutputView(active=True, bytes=1000),
        "record": OutputView(active=True, file="/rec/a.mkv"),
        "checks": (CheckResult("suzuki", "Yui Suzuki", "audio", "fail", "peak -inf dBFS"),),
        "health": health,
        "notify": NotifyView(webhooks=2, sent=3),
    }
    # A new view in `Views` needs a sample here: this test then proves it reaches a feed.
    assert set(samples) == set(Views.__annotations__)
    cfg = _cut_example(tmp_path)
    async with _quiet_session(sim, cfg, tmp_path) as session:
        feed = session.feed()
        await _next_state(feed)
        for name, view in samples.items():
            session.publish(**{name: view})
            state = await _next_state(feed)
            assert getattr(state, name) == view, name
            assert state.to_json()[name] is not None
        with pytest.raises(TypeError, match="not a view"):
            session.publish(applause=1)  # type: ignore[misc]


async def test_a_stream_health_reading_reaches_the_state_feed_at_once(
    sim: SimulatedOBS,  # noqa: F811
    tmp_path: Path,
) -> None:
    # The producer itself (the stream health poller's step), not a hand-made publish: its
    # reading must wake the surfaces, not wait for another change to bump the state.
    from showcaller.checks.health import HealthSample, StreamHealth

    cfg = _cut_example(tmp_path)
    async with _quiet_session(sim, cfg, tmp_path) as session:
        feed = session.feed()
        first = await _next_state(feed)
        assert first.health is None
        poller = StreamHealth(session, cfg.health)
        poller._take(HealthSample(t=0.0, active=True, stream_bytes=0))
        poller._take(HealthSample(t=1.0, active=True, stream_bytes=312_500))
        state = await _next_state(feed)
        assert state.health is not None
        assert state.health.active
        assert state.version > first.version
