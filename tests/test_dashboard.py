"""The dashboard drawn on a fixed-size console, and the pure parts of its keys."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
import os
import pty
import re
import termios
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment

from showcaller.config import load_config
from showcaller.show.state import (
    CommandResult,
    HealthView,
    MarkView,
    NotifyView,
    OutputView,
    SessionState,
    ShowMessage,
    ShowState,
    SlotView,
)
from showcaller.surfaces.dashboard import (
    BoardUI,
    countdown_style,
    countdown_text,
    render,
    time_left,
)
from showcaller.surfaces.keys import LineInput, TerminalKeys, key_command, split_keys

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config(ROOT / "config.example.toml")

# The warning time the states below carry (the dashboard reads the state's, never its own).
WARNING_S = 120.0


def _state(
    *,
    on_air: int | None = 2,
    left: float | None = 600.0,
    messages: int = 3,
    held: bool = False,
    delay: float = 65.0,
    **show: Any,
) -> SessionState:
    """The example event with slot `on_air` (0-based) on air and `left` seconds to go."""
    slots = CFG.slots_resolved()
    now = slots[on_air].start + timedelta(minutes=3) if on_air is not None else slots[0].start
    views = tuple(
        SlotView(
            index=s.index,
            kind=s.kind,
            title=s.title,
            speakers=tuple(sp.name for sp in s.speakers),
            scene=s.scene,
            planned_start=s.start.isoformat(),
            planned_end=s.end.isoformat(),
            expected_start=(s.start + timedelta(seconds=delay)).isoformat(),
            expected_end=(s.end + timedelta(seconds=delay)).isoformat(),
            state=(
                "done"
                if on_air is not None and s.index < on_air
                else "on_air"
                if s.index == on_air
                else "upcoming"
            ),
        )
        for s in slots
    )
    base = ShowState(
        title=CFG.event.title,
        mode="live",
        phase="on_air" if on_air is not None else "waiting",
        now=now.isoformat(),
        on_air=views[on_air] if on_air is not None else None,
        next=views[on_air + 1 if on_air is not None else 0],
        time_left_s=left if on_air is not None else None,
        warning_s=WARNING_S if on_air is not None else None,
        delay_s=delay,
        held=held,
        waiting_for_host=False,
        program_scene=None,
        trouble=False,
        message="",
        slots=views,
        marks=(MarkView("record_start", "the recording starts", None, "due", ""),),
        version=1,
    )
    base = dataclasses.replace(base, **show)
    texts = [
        ShowMessage(i, "cue" if i % 2 else "warning", f"メッセージ {i} 小さな LLM", now.isoformat())
        for i in range(1, messages + 1)
    ]
    return SessionState(
        version=1,
        show=base,
        link="ready",
        stream=OutputView(active=True, duration_s=754.2),
        record=OutputView(active=True, duration_s=700.0, file="/rec/2026-12-10 19-30-00.mkv"),
        checks=(),
        messages=tuple(texts),
    )


def _now(state: SessionState) -> datetime:
    return datetime.fromisoformat(state.show.now)


def _draw(
    state: SessionState, *, width: int = 80, height: int = 24, ui: BoardUI | None = None
) -> tuple[list[str], list[list[Segment]]]:
    console = Console(
        record=True, width=width, height=height, force_terminal=True, color_system="truecolor"
    )
    board = render(state, _now(state), ui=ui or BoardUI(), width=width, height=height, tz=CFG.tz)
    lines = console.render_lines(board, console.options, pad=True)
    console.print(board)
    text = console.export_text(styles=False).split("\n")
    return text[:-1], lines


def _digit_colours(lines: list[list[Segment]]) -> set[str]:
    return {
        seg.style.color.name
        for line in lines[1:7]
        for seg in line
        if "█" in seg.text and seg.style is not None and seg.style.color is not None
    }


# ------------------------------------------------------------------- countdown


@pytest.mark.parametrize(
    ("seconds", "text", "colour"),
    [
        (600.0, "10:00", "green"),
        (WARNING_S + 0.5, "02:01", "green"),
        (WARNING_S, "02:00", "yellow"),
        (0.4, "00:01", "yellow"),
        (0.0, "+00:00", "red"),
        (-65.2, "+01:05", "red"),
        (-3725.0, "+1:02:05", "red"),
    ],
)
def test_the_countdown_is_yellow_from_the_warning_time_and_red_with_overtime_from_zero(
    seconds: float, text: str, colour: str
) -> None:
    assert countdown_text(seconds) == text
    assert countdown_style(seconds, warning_s=WARNING_S) == f"bold {colour}"
    _, lines = _draw(_state(left=seconds))
    assert _digit_colours(lines) == {colour}
    screen, _ = _draw(_state(left=seconds))
    if seconds <= 0:
        assert f"OVERTIME {text}" in "\n".join(screen)


def test_the_countdown_turns_yellow_at_the_warning_time_the_state_gives() -> None:
    # The engine gives a talk five minutes of warning (one minute to a lightning talk).
    early = dataclasses.replace(_state(left=250.0).show, warning_s=300.0)
    _, lines = _draw(dataclasses.replace(_state(left=250.0), show=early))
    assert _digit_colours(lines) == {"yellow"}
    _, lines = _draw(_state(left=250.0))
    assert _digit_colours(lines) == {"green"}


def test_the_countdown_runs_on_between_states_and_stands_still_on_hold() -> None:
    state = _state(left=130.0)
    later = _now(state) + timedelta(seconds=20)
    assert time_left(state.show, later) == pytest.approx(110.0)
    held = _state(left=130.0, held=True)
    assert time_left(held.show, later) == pytest.approx(130.0)
    assert "ON HOLD" in "\n".join(_draw(held)[0])


def test_before_the_show_it_counts_down_to_the_first_slot() -> None:
    state = _state(on_air=None)
    now = _now(state) - timedelta(minutes=4, seconds=30)
    state = dataclasses.replace(state, show=dataclasses.replace(state.show, now=now.isoformat()))
    screen, lines = _draw(state)
    assert "WAITING until the show starts" in screen[1]
    assert _digit_colours(lines) == {"cyan"}


# --------------------------------------------------------------------- layout


def test_it_fits_80x24_with_japanese_titles_and_names_lined_up() -> None:
    screen, _ = _draw(_state())
    assert len(screen) == 24
    assert all(cell_len(line) <= 80 for line in screen), screen
    rows = [line for line in screen if line[:3].strip().isdigit() and ":" in line[3:10]]
    assert len(rows) >= 4, "\n".join(screen)
    titles = {"質疑応答", "Feature Store を半年運用してみた", "休憩", "Evaluating RAG"}
    starts = {cell_len(row[: row.index(t)]) for row in rows for t in titles if t in row}
    assert len(starts) == 1, "\n".join(rows)  # the titles start in one column
    names = {"佐藤 花子", "田中 健太", "Yui Suzuki"}
    columns = {cell_len(row[: row.index(n)]) for row in rows for n in names if n in row}
    assert len(columns) == 1, "\n".join(rows)  # and so do the speakers after them
    text = "\n".join(screen)
    for what in ("ON AIR 3/13 talk 小さな LLM を手元で動かす", "佐藤 花子", "scene Talk"):
        assert what in text
    assert "next 19:51:05 (+1:05 late) 4/13 qa 質疑応答 · 佐藤 花子" in text
    assert "stream ● 0:12:34" in text
    assert "record ● 0:11:40 2026-12-10 19-30-00.mkv" in text
    assert "the recording starts with its slot" in text
    assert "OBS ready" in screen[0]


def test_it_grows_with_the_terminal() -> None:
    small, _ = _draw(_state(messages=40))
    big, _ = _draw(_state(messages=40), width=160, height=50)
    assert len(big) == 50
    assert max(cell_len(line) for line in big) <= 160
    shown = [line for line in big if line[:5].strip().isdigit() and "メッセージ" in line]
    assert len(shown) > len([line for line in small if "メッセージ" in line])


def test_every_message_number_is_shown_or_said_to_be_earlier() -> None:
    screen, _ = _draw(_state(messages=30))
    text = "\n".join(screen)
    shown = [int(line.split()[0]) for line in screen if "メッセージ" in line]
    assert shown == list(range(shown[0], 31))  # the newest, none skipped
    assert f"messages {shown[0]}–30 of 30 (earlier ones: in the log printed at the end)" in text


def test_the_last_answer_and_the_line_being_typed_are_shown() -> None:
    ui = BoardUI(result=CommandResult(False, "nothing is on hold"), result_key="h")
    assert "✗ h: nothing is on hold" in _draw(_state(), ui=ui)[0][-2]
    ui = BoardUI(input=LineInput("message for the speaker timer: ", "m", "あと5分です"))
    screen, _ = _draw(_state(), ui=ui)
    assert "message for the speaker timer: あと5分です█" in screen[-2]
    long = LineInput("quit: type `end` to end the show " * 3, "quit", "deta")
    screen, _ = _draw(_state(), ui=BoardUI(input=long))
    assert len(screen) == 24
    assert screen[-2].rstrip().endswith("deta█")  # the cursor stays in view
    help_screen, _ = _draw(_state(), ui=BoardUI(help=True))
    assert "n    next: end the slot on air, start the next" in "\n".join(help_screen)


def test_trouble_hold_and_the_timer_message_are_flagged() -> None:
    state = _state(trouble=True, message="あと5分", waiting_for_host=True, left=-5.0)
    text = "\n".join(_draw(state)[0])
    assert "TROUBLE SCENE ON AIR" in text
    assert "timer says: あと5分" in text


def test_a_resumed_show_a_trouble_hold_and_a_pinned_message_are_said() -> None:
    from showcaller.show.state import ResumedView

    state = _state(
        trouble=True,
        held=True,
        message="音声が途切れています",
        message_pinned=True,
        resumed=ResumedView(slot=2, away_s=95.0, at="2026-12-10T19:42:10+09:00"),
    )
    text = "\n".join(_draw(state, width=120)[0])
    assert "resumed after 95 s away" in text
    assert "HELD BY TROUBLE" in text
    assert "音声が途切れています (pinned)" in text


def test_the_end_of_show_table_has_a_row_for_a_slot_passed_over() -> None:
    from showcaller.show.state import CueRecord, ShowReport
    from showcaller.surfaces.console import print_report

    slots = CFG.slots_resolved()
    report = ShowReport(title=CFG.event.title, mode="live", speed=1)
    for slot in (slots[2], slots[4]):
        at = (slot.start - slots[0].start).total_seconds()
        report.cues.append(CueRecord(slot.index, slot.title, slot.scene, "auto", at, at))
    report.passed.append(3)
    out = Console(width=100, record=True, file=io.StringIO())
    print_report(CFG, report, out)
    (row,) = [line for line in out.export_text().splitlines() if "passed over" in line]
    assert row.split()[:2] == ["4", "質疑応答"]
    assert "never on air" in row


# ----------------------------------------------------------------------- keys


def _health(**changes: Any) -> HealthView:
    view = HealthView(
        status="ok", active=True, reconnecting=False, congestion=0.0, bitrate_kbps=2480.0,
        dropped_frames=0, dropped_percent=0.0, skipped_frames=0, skipped_percent=0.0,
        render_ms=1.2, cpu_percent=12.0, disk_free_mb=9000.0, disk_left_min=95.0,
        show_left_min=40.0, warnings=(), window_s=10.0,
    )  # fmt: skip
    return dataclasses.replace(view, **changes)


def test_stream_health_and_the_webhooks_are_on_the_outputs_line_and_loud_when_wrong() -> None:
    fine = dataclasses.replace(
        _state(), health=_health(), notify=NotifyView(webhooks=2, sent=7, pending=1)
    )
    text, _ = _draw(fine, width=160, height=40)
    (outputs,) = [line for line in text if "health" in line]
    assert "health ✓ 2480 kbps · disk 95 min" in outputs
    assert "notify ✓ 7 sent · 1 waiting" in outputs
    bad = dataclasses.replace(
        _state(),
        health=_health(
            status="warning", bitrate_kbps=0.0, reconnecting=True, warnings=("reconnecting",)
        ),
        notify=NotifyView(webhooks=2, sent=7, failed=2, last_error="webhook 1 (discord): HTTP 500"),
    )
    text, lines = _draw(bad, width=160, height=40)
    (outputs,) = [line for line in text if "health" in line]
    assert "health ! reconnecting 0 kbps" in outputs
    assert "notify ! 2 failed — webhook 1 (discord): HTTP 500" in outputs
    loud = {
        str(seg.style.color.name)
        for line in lines
        for seg in line
        if "notify !" in seg.text and seg.style is not None and seg.style.color is not None
    }
    assert loud == {"yellow"}


def test_keys_send_the_commands_of_the_session() -> None:
    show = _state().show
    assert key_command("n", show) == {"command": "next"}
    assert key_command("b", show) == {"command": "back"}
    assert key_command("h", show) == {"command": "hold"}
    assert key_command("h", dataclasses.replace(show, held=True)) == {"command": "resume"}
    assert key_command("+", show) == {"command": "extend", "minutes": 1}
    assert key_command("=", show) == {"command": "extend", "minutes": 1}
    assert key_command("-", show) == {"command": "extend", "minutes": -1}
    assert key_command("s", show) == {"command": "skip"}
    assert key_command("u", show) == {"command": "unskip"}
    assert key_command("t", show) == {"command": "trouble"}
    assert key_command("c", show) == {"command": "checks"}
    assert key_command("x", show) is None


def test_keys_are_split_with_escape_sequences_whole() -> None:
    assert split_keys("n\x1b[A+\x1bOPq\x1b") == ["n", "\x1b[A", "+", "\x1bOP", "q", "\x1b"]
    assert split_keys("あと5") == ["あ", "と", "5"]


def test_the_line_input_edits_submits_and_cancels() -> None:
    line = LineInput("> ", "m")
    for key in "あとx":
        assert line.feed(key) is None
    line.feed("\x7f")
    assert line.text == "あと"
    line.feed("\x1b[A")  # an arrow key types nothing
    assert line.feed("\r") == "submit"
    assert line.text == "あと"
    line.feed("\x15")
    assert line.text == ""
    assert LineInput("> ", "q").feed("\x03") == "cancel"


async def test_the_terminal_is_put_back_when_the_keys_end_with_an_exception() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        during: list[Any] = []

        def show_must_fail() -> None:
            with TerminalKeys(slave, lambda _: None):
                during.extend(termios.tcgetattr(slave))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            show_must_fail()
        assert not during[3] & (termios.ECHO | termios.ICANON | termios.ISIG)
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


async def test_keys_arrive_through_the_event_loop() -> None:
    master, slave = pty.openpty()
    got: list[str] = []
    try:
        with TerminalKeys(slave, got.append):
            os.write(master, "nあ\x03".encode())
            for _ in range(50):
                if len(got) == 3:
                    break
                await asyncio.sleep(0.02)
        assert got == ["n", "あ", "\x03"]  # Ctrl-C is a key, not a signal
    finally:
        os.close(master)
        os.close(slave)


# ------------------------------------------------------- what the host must read


def _checks(*failing: tuple[str, str, str], checking: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """Checks of a Japanese evening: everyone passes but `failing` (name, part, value)."""
    from showcaller.show.state import CheckResult

    names = ["中村 さくら", "山田 太郎", "佐藤 花子", "田中 健太", "伊藤 翔", "小林 美咲"]
    names += [n for n, _, _ in failing if n not in names]
    bad = {(n, p): v for n, p, v in failing}
    results = []
    for name in names:
        for part in ("video", "audio"):
            value = bad.get((name, part))
            verdict = "fail" if value else "checking" if name in checking else "pass"
            hint = "音が割れています — マイクの音量を下げてもらってください" if value else ""
            results.append(CheckResult(name, name, part, verdict, value or "", hint))  # type: ignore[arg-type]
    return tuple(results)


@pytest.mark.parametrize(("width", "height"), [(80, 24), (120, 40)])
def test_a_failing_check_comes_first_and_whole_however_long_the_names(
    width: int, height: int
) -> None:
    # 加藤 is the last speaker of the event file and the one whose microphone fails.
    checks = _checks(("加藤 健一郎", "audio", "peak -73 dBFS"), checking=("山田 太郎",))
    state = dataclasses.replace(_state(), checks=checks)
    screen, _ = _draw(state, width=width, height=height)
    assert len(screen) == height
    assert all(cell_len(line) <= width for line in screen), screen
    text = "\n".join(screen)
    (first,) = [line for line in screen if line.startswith("checks ")]
    assert first.startswith("checks ✗ 加藤 健一郎 audio (peak -73 dBFS)"), text
    # The others are named when they fit, counted when they do not; none is cut.
    shown = [line for line in screen if line.startswith(("checks", "       "))]
    assert not any(line.rstrip().endswith("…") for line in shown), shown
    assert "山田 太郎" in text or "1 checking" in text


def test_two_failures_wrap_onto_a_second_line_rather_than_being_cut() -> None:
    checks = _checks(
        ("加藤 健一郎", "audio", "peak -73 dBFS, unchanged for 8 s"),
        ("ジョナサン・アレクサンダー", "video", "luma 0/255, not shown in any scene"),
    )
    screen, _ = _draw(dataclasses.replace(_state(), checks=checks))
    text = "\n".join(screen)
    assert len(screen) == 24
    assert "✗ 加藤 健一郎 audio (peak -73 dBFS, unchanged for 8 s)" in text
    assert "✗ ジョナサン・アレクサンダー video (luma 0/255, not shown in any scene)" in text
    assert "✓ 6 passed" in text  # no room for six names: counted


def test_the_next_speakers_check_is_beside_next() -> None:
    state = _state(on_air=3)  # the Q&A on air; next: 田中 健太's talk
    failing = _checks(("田中 健太", "audio", "peak -73 dBFS"))
    screen, _ = _draw(dataclasses.replace(state, checks=failing))
    (line,) = [line for line in screen if line.startswith("next ")]
    assert line.endswith("· 田中 健太 ✗ audio failed"), line
    assert "5/13 talk Feature Store" in line  # the title is what gets cut
    passing = _checks()
    screen, _ = _draw(dataclasses.replace(state, checks=passing))
    assert next(x for x in screen if x.startswith("next ")).endswith("· 田中 健太 ✓ checked")
    screen, _ = _draw(state)  # no checks yet
    assert next(x for x in screen if x.startswith("next ")).endswith("· 田中 健太 ? not checked")


def test_at_80x24_the_mc_intro_wraps_whole_and_the_help_fits() -> None:
    from showcaller.stage.cards import cards_view

    state = _state(on_air=1)  # the opening; next: 佐藤 花子's talk
    state = dataclasses.replace(state, cards=cards_view(CFG, state.show))
    notes = ["speaker timer: http://127.0.0.1:8080/timer", "host page: http://127.0.0.1:8080/c"]
    screen, _ = _draw(state, ui=BoardUI(notes=notes))
    assert len(screen) == 24
    assert all(cell_len(line) <= 80 for line in screen), screen
    intro = state.cards.next.intro if state.cards and state.cards.next else ""
    card = [line[10:] for line in screen if line[:10].strip() in ("next", "")]
    said = "".join(card).replace(" ", "")
    for sentence in intro.splitlines():
        assert sentence.replace(" ", "") in said, "\n".join(screen)
    assert "@hanako_ml" in "\n".join(screen)
    help_screen, _ = _draw(state, ui=BoardUI(help=True, notes=notes))
    assert len(help_screen) == 24
    assert any(line.strip().startswith("?    this help") for line in help_screen), help_screen


def test_japanese_wraps_between_characters_but_never_before_a_closing_mark() -> None:
    from showcaller.surfaces.cardlines import wrap_cells

    text = "続いては、株式会社サンプルの山田 太郎さんによる「Transformer の推論」です。"
    for width in range(12, 40):
        cuts = [0, *wrap_cells(text, width), len(text)]
        lines = [text[a:b] for a, b in itertools.pairwise(cuts)]
        assert all(cell_len(line.rstrip()) <= width for line in lines), (width, lines)
        assert "".join(lines) == text
        assert not any(line[:1] in "、。」" for line in lines[1:]), (width, lines)
        assert "Transformer" in "\n".join(lines)  # a Latin word is never split


def test_the_report_on_80_columns_shows_slot_planned_actual_delay_and_note() -> None:
    from showcaller.show.state import CueRecord, ShowReport
    from showcaller.surfaces.console import print_report

    slots = CFG.slots_resolved()
    report = ShowReport(title=CFG.event.title, mode="rehearsal", speed=60)
    for slot in slots:
        at = (slot.start - slots[0].start).total_seconds() + (60 if slot.index == 3 else 0)
        report.cues.append(CueRecord(slot.index, slot.title, slot.scene, "deadline", at, at))
    narrow = Console(width=80, record=True, file=io.StringIO())
    print_report(CFG, report, narrow)
    text = narrow.export_text()
    assert all(cell_len(line) <= 80 for line in text.splitlines())
    head = next(line for line in text.splitlines() if "planned" in line)
    assert head.split() == ["#", "slot", "planned", "actual", "delay", "note"]
    for slot in slots:  # every title whole (a long one wraps onto a second line)
        assert slot.title.split()[0] in text
    assert "pandas から Polars" in text
    assert "19:50:00   19:51:00   +1:00" in text
    wide = Console(width=140, record=True, file=io.StringIO())
    print_report(CFG, report, wide)
    wide_text = wide.export_text()
    assert "sent ms" in wide_text
    assert "landed ms" in wide_text


def test_more_failures_than_the_screen_holds_say_how_many_more() -> None:
    failing = [
        (f"登壇者 {n:02d} さん", "audio", "peak -73 dBFS, silent for 20 s") for n in range(30)
    ]
    screen, _ = _draw(dataclasses.replace(_state(), checks=_checks(*failing)))
    assert len(screen) == 24
    assert screen[-1].startswith("n next b back")  # the key hints stay on screen
    assert any(re.search(r"… \d+ more to look at: /control lists them all", x) for x in screen)
