"""The rich terminal dashboard: the show at a glance, and single keys to steer it.

A surface (an attachment of the show session): it reads the session's published state
and sends the host's keys as commands (`source="keys"`); it holds no show logic. On
screen, in a terminal of 80×24 or more (it grows with the terminal):

- the slot on air (title, speakers, scene) and a large countdown: yellow from
  the slot's warning time before the end (`show.warning_s`: the engine's one rule, 5
  minutes for a talk, 1 for a short slot), red at zero, overtime as +MM:SS; before the
  show, the time until it starts;
- the next slot, its expected start and the delay; the rest of the evening;
- OBS's link, the stream and the recording with their durations, pending marks,
  speaker check results, the newest numbered messages (all of them are printed once
  the dashboard closes, so none is lost), the answer to the last key.

It repaints at most `REFRESH_S` apart and only when what it shows changed (the
countdown's second, a new state, a key, the terminal's size), on the alternate screen
(no flicker, no scrolling). `render()` is pure: state, time and size in, a renderable
out; tests draw it on a fixed-size `Console`.

While it runs it owns Ctrl-C: the key (signal keys are off) and SIGINT both open the
quit question, the same question the plain console's Ctrl-C asks. In a rehearsal,
where nobody else handles SIGTERM, SIGTERM detaches, so the terminal is put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import io
import logging
import math
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import PurePath
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from showcaller.config import EventConfig
from showcaller.show.confirming import CONFIRM_WITHIN_S, needs_confirming
from showcaller.show.context import ShowContext
from showcaller.show.hostcommands import BadCommand, parse_command
from showcaller.show.session import ShowSession
from showcaller.show.state import (
    CheckResult,
    CommandResult,
    HealthView,
    NotifyView,
    OutputView,
    SessionState,
    ShowMessage,
    ShowState,
    SlotView,
)
from showcaller.surfaces.cardlines import card_lines, card_rows
from showcaller.surfaces.console import CueLog
from showcaller.surfaces.keys import (
    CTRL_BACKSLASH,
    CTRL_C,
    CTRL_Z,
    ESC,
    KEY_HELP,
    KEY_HINTS,
    LineInput,
    TerminalKeys,
    key_command,
)
from showcaller.surfaces.prompts import CTRL_C_ANSWERS, CTRL_C_QUESTION, on_signal

log = logging.getLogger(__name__)

# At most this long (real seconds) between two looks at the clock: about 4 Hz.
REFRESH_S = 0.25
# The line being typed (a message, the quit question) takes at most this many lines.
MAX_INPUT_LINES = 4

LINK_STYLES = {"ready": "green", "auth failed": "bold red", "stopped": "red"}
LEVEL_STYLES = {
    "cue": ("▶", "green"),
    "end": ("■", "bold"),
    "info": ("·", "default"),
    "warning": ("!", "yellow"),
    "problem": ("✗", "bold red"),
}


# --------------------------------------------------------------------- pure parts


def time_left(show: ShowState, now: datetime) -> float | None:
    """Seconds left in the slot on air at `now` (negative: overtime), from the last state.

    The state says what was left at `show.now`; the clock has run on since, unless the
    slot is on hold (then its end moves with the clock).
    """
    if show.time_left_s is None or show.on_air is None:
        return None
    if show.held:
        return show.time_left_s
    return show.time_left_s - (now - datetime.fromisoformat(show.now)).total_seconds()


def until_start(show: ShowState, now: datetime) -> float | None:
    """Before the show: seconds until the first slot's expected start."""
    if show.on_air is not None or show.next is None or not show.next.expected_start:
        return None
    return (datetime.fromisoformat(show.next.expected_start) - now).total_seconds()


def countdown_text(seconds: float) -> str:
    """MM:SS counting down (rounded up, so 00:00 comes exactly at zero), +MM:SS over."""
    if seconds > 0:
        whole, sign = math.ceil(seconds), ""
    else:
        whole, sign = math.floor(-seconds), "+"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes:02d}:{secs:02d}"


def countdown_style(seconds: float, *, warning_s: float | None) -> str:
    """Green with time to spare, yellow from the warning time (the state's), red from zero."""
    if seconds <= 0:
        return "bold red"
    if warning_s is not None and math.ceil(seconds) <= warning_s:
        return "bold yellow"
    return "bold green"


# A 3×5 pixel font for the countdown's digits.
_GLYPHS = {
    "0": ("███", "█ █", "█ █", "█ █", "███"),
    "1": (" █ ", "██ ", " █ ", " █ ", "███"),
    "2": ("███", "  █", "███", "█  ", "███"),
    "3": ("███", "  █", "███", "  █", "███"),
    "4": ("█ █", "█ █", "███", "  █", "  █"),
    "5": ("███", "█  ", "███", "  █", "███"),
    "6": ("███", "█  ", "███", "█ █", "███"),
    "7": ("███", "  █", "  █", "  █", "  █"),
    "8": ("███", "█ █", "███", "█ █", "███"),
    "9": ("███", "█ █", "███", "  █", "███"),
    ":": (" ", "█", " ", "█", " "),
    "+": ("   ", " █ ", "███", " █ ", "   "),
    "-": ("   ", "   ", "███", "   ", "   "),
}


def big_digits(text: str, style: str, *, scale: int = 1) -> Text:
    """`text` (digits, colon, sign) in large block letters: 5 × scale lines."""
    rows = []
    for row in range(5):
        line = " ".join("".join(ch * scale for ch in _GLYPHS[c][row]) for c in text)
        rows.extend([line] * scale)
    return Text("\n".join(rows), style=style, no_wrap=True)


def big_width(text: str, *, scale: int = 1) -> int:
    """The cells `big_digits(text)` takes across."""
    return sum(len(_GLYPHS[c][0]) * scale for c in text) + max(0, len(text) - 1)


@dataclass
class BoardUI:
    """What the dashboard shows besides the state: the line being typed, the last answer."""

    input: LineInput | None = None
    result: CommandResult | None = None
    result_key: str = ""
    help: bool = False
    keys_on: bool = True
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=50))
    notes: list[str] = field(default_factory=list)  # lines for the host only (the URLs)
    version: int = 0
    asking: bool = False  # the answer line asks for the same key again (a risky command)

    def changed(self) -> None:
        """Something the host sees changed: repaint."""
        self.version += 1


def _clock(iso: str | None, tz: tzinfo) -> str:
    if not iso:
        return "--:--:--"
    moment = datetime.fromisoformat(iso) + timedelta(milliseconds=500)
    return moment.astimezone(tz).strftime("%H:%M:%S")


def _hm(iso: str, tz: tzinfo) -> str:
    if not iso:
        return "--:--"
    moment = datetime.fromisoformat(iso) + timedelta(seconds=30)
    return moment.astimezone(tz).strftime("%H:%M")


def _delay(seconds: float) -> str:
    if abs(seconds) < 30:
        return "on time"
    sign = "+" if seconds > 0 else "-"
    m, s = divmod(round(abs(seconds)), 60)
    return f"{sign}{m}:{s:02d} {'late' if seconds > 0 else 'early'}"


def _duration(seconds: float) -> str:
    whole = max(0, int(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _line(*parts: str | tuple[str, str], style: str = "") -> Text:
    return Text.assemble(*parts, style=style, no_wrap=True, overflow="ellipsis")


def _output(name: str, view: OutputView | None) -> list[str | tuple[str, str]]:
    if view is None:
        return [(f"{name} ?", "dim")]
    if view.reconnecting:
        return [(f"{name} ◌ reconnecting {_duration(view.duration_s)}", "bold yellow")]
    if view.paused:
        return [(f"{name} ‖ paused {_duration(view.duration_s)}", "yellow")]
    if view.active:
        parts: list[str | tuple[str, str]] = [
            (f"{name} ● {_duration(view.duration_s)}", "bold red" if name == "stream" else "red")
        ]
        if view.file:
            parts.append((f" {PurePath(view.file).name}", "dim"))
        return parts
    return [(f"{name} ○ off", "dim")]


def _health(view: HealthView | None) -> list[str | tuple[str, str]]:
    """Stream health in a few words: bitrate, drops, disk (docs/health.md)."""
    if view is None or not view.active:
        return []
    words = [f"{view.bitrate_kbps:.0f} kbps" if view.bitrate_kbps is not None else "… kbps"]
    if view.dropped_frames:
        words.append(f"dropped {view.dropped_percent:.1f}%")
    if view.skipped_frames:
        words.append(f"skipped {view.skipped_percent:.1f}%")
    if view.disk_left_min is not None:
        words.append(f"disk {view.disk_left_min:.0f} min")
    ok = view.status == "ok"
    mark = "✓" if ok else "! " + ", ".join(w.replace("_", " ") for w in view.warnings)
    return ["   ", (f"health {mark} {' · '.join(words)}", "green" if ok else "bold yellow")]


def _notify(view: NotifyView | None) -> list[str | tuple[str, str]]:
    """The webhooks in a few words: nothing while all is well, loud once one fails."""
    if view is None:
        return []
    queued = f" · {view.pending} waiting" if view.pending else ""
    if not view.failed and not view.dropped:
        return ["   ", (f"notify ✓ {view.sent} sent{queued}", "dim")]
    lost = f"{view.failed} failed" + (f", {view.dropped} dropped" if view.dropped else "")
    error = f" — {view.last_error}" if view.last_error else ""
    return ["   ", (f"notify ! {lost}{error}", "bold yellow")]


def _speakers(slot: SlotView) -> str:
    return ", ".join(slot.speakers)


def _slot_number(slot: SlotView, slots: tuple[SlotView, ...]) -> str:
    # A show started from a later slot lists the slots from there on: the last one's
    # number is the evening's count.
    total = slots[-1].index + 1 if slots else 0
    return f"{slot.index + 1}/{total}"


def _header(state: SessionState, now: datetime, tz: tzinfo, speed: float) -> Text:
    show = state.show
    mode = show.mode if speed == 1 else f"{show.mode} ×{speed:g}"
    link = state.link
    return _line(
        (f" {show.title} ", "bold"),
        (f" {mode} ", "reverse"),
        f"  {now.astimezone(tz):%H:%M:%S}  ",
        "OBS ",
        (link, LINK_STYLES.get(link, "bold yellow")),
        (f"  {show.phase}" if show.phase in ("ended", "detached") else "", "bold"),
    )


def _now_block(
    state: SessionState, now: datetime, tz: tzinfo, width: int, scale: int
) -> list[Text]:
    show = state.show
    info: list[Text] = []
    if show.on_air is not None:
        slot = show.on_air
        left = time_left(show, now)
        seconds = left if left is not None else 0.0
        style = countdown_style(seconds, warning_s=show.warning_s)
        info.append(
            _line(
                ("ON AIR", "bold reverse red"),
                f" {_slot_number(slot, show.slots)} ",
                (slot.kind, "cyan"),
                " ",
                (slot.title, "bold"),
            )
        )
        info.append(_line("  ", (_speakers(slot) or "—", "bold")))
        scene = show.program_scene or slot.scene
        if seconds > 0:
            ends: tuple[str, str] = (f"  ends {_clock(slot.expected_end, tz)}", "")
        else:
            ends = (f"  OVERTIME {countdown_text(seconds)}", "bold reverse red")
        info.append(_line("  scene ", (scene, "green"), ends))
        digits = countdown_text(seconds)
    elif show.phase in ("ended", "detached"):
        info.append(_line((f"the show has {show.phase}", "bold")))
        style, digits = "dim", "00:00"
    else:
        start = until_start(show, now)
        style = "bold cyan"
        digits = countdown_text(start) if start is not None else "00:00"
        first = show.next
        info.append(_line(("WAITING", "bold reverse cyan"), " until the show starts"))
        info.append(_line("  first ", (first.title if first else "—", "bold")))
        info.append(_line(f"  at {_clock(first.expected_start if first else None, tz)}"))
    flags: list[str | tuple[str, str]] = []
    if show.resumed is not None:
        flags.append((f"↻ resumed after {show.resumed.away_s:.0f} s away", "bold yellow"))
        flags.append("  ")
    if show.held:
        held = "⏸ HELD BY TROUBLE (t releases)" if show.trouble else "⏸ ON HOLD (h resumes)"
        flags.append((held, "bold reverse blue"))
        flags.append("  ")
    if show.trouble:
        flags.append(("⚠ TROUBLE SCENE ON AIR (t: back)", "bold reverse yellow"))
        flags.append("  ")
    if show.waiting_for_host:
        flags.append(("waiting for you: n = next slot", "bold yellow"))
    if flags:
        info.append(_line(*flags))
    if show.message:
        scope = " (pinned)" if show.message_pinned else " (this slot)"
        info.append(_line("  timer says: ", (show.message, "italic"), (scope, "dim")))
    rows = 5 * scale
    info = info[:rows] + [Text("") for _ in range(rows - len(info))]
    # Put together by hand rather than as a table: this part changes every second.
    big_w = min(max(big_width("+00:00", scale=scale), big_width(digits, scale=scale)), width // 2)
    left_w = max(0, width - big_w - 1)
    big = big_digits(digits, style, scale=scale).split()
    lines = []
    for text, digit_row in zip(info, big, strict=True):
        text.truncate(left_w, overflow="ellipsis", pad=True)
        digit_row.truncate(big_w)
        digit_row.pad_left(big_w - digit_row.cell_len)
        lines.append(Text.assemble(text, " ", digit_row, no_wrap=True))
    return lines


def _tz(show: ShowState) -> tzinfo:
    # The event's time zone, as the state's own times carry it.
    moment = datetime.fromisoformat(show.now)
    return moment.tzinfo or datetime.now().astimezone().tzinfo  # type: ignore[return-value]


def _next_line(state: SessionState, tz: tzinfo, width: int) -> Text:
    show = state.show
    nxt = show.next
    if nxt is None:
        return _line(("next ", "bold"), "— (the last slot is on air)" if show.on_air else "—")
    late = show.delay_s >= 60
    delay_style = "bold yellow" if late else "green" if abs(show.delay_s) < 30 else ""
    # The time, the delay, the speakers and their check are what the host must read:
    # on a narrow terminal the title is what gets cut.
    head = Text.assemble(
        ("next ", "bold"),
        (_clock(nxt.expected_start, tz), "bold"),
        " (",
        (_delay(show.delay_s), delay_style),
        f") {_slot_number(nxt, show.slots)} ",
        (nxt.kind, "cyan"),
        " ",
    )
    tail = Text.assemble(*_next_verdict(state, nxt))
    title = Text(nxt.title)
    room = width - head.cell_len - tail.cell_len
    if title.cell_len > room:
        title.truncate(max(room, min(title.cell_len, 8)), overflow="ellipsis")
    return Text.assemble(head, title, tail, no_wrap=True, overflow="ellipsis")


class _Lines:
    """Lines rendered once, drawn again as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()


@functools.lru_cache(maxsize=8)
def _timetable_lines(slots: tuple[SlotView, ...], tz: tzinfo, rows: int, width: int) -> _Lines:
    # The table is the dearest part to draw and changes only with the state: drawn once
    # per state, the repaint of every second costs a third as much.
    console = _measuring_console()
    table = _timetable(slots, tz, rows)
    return _Lines(console.render_lines(table, console.options.update_width(width), pad=True))


def _timetable(slots: tuple[SlotView, ...], tz: tzinfo, rows: int) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True, style="dim")
    table.add_column("at", no_wrap=True)
    table.add_column("±", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True, style="cyan")
    table.add_column("the rest of the evening", ratio=3, no_wrap=True, overflow="ellipsis")
    table.add_column("speakers", ratio=1, no_wrap=True, overflow="ellipsis")
    rest = [s for s in slots if s.state == "upcoming"]
    for slot in rest[:rows]:
        delay = (
            datetime.fromisoformat(slot.expected_start) - datetime.fromisoformat(slot.planned_start)
        ).total_seconds()
        table.add_row(
            str(slot.index + 1),
            _hm(slot.expected_start, tz),
            "" if abs(delay) < 30 else f"{delay / 60:+.0f}m",
            slot.kind,
            slot.title,
            _speakers(slot),
        )
    for _ in range(rows - len(rest[:rows])):
        table.add_row("", "", "", "", "", "")
    return table


def _marks_line(show: ShowState, tz: tzinfo) -> Text:
    parts: list[str | tuple[str, str]] = [("marks ", "bold")]
    shown = [m for m in show.marks if m.status in ("due", "failed")]
    if not shown:
        parts.append(("none pending", "dim"))
    for mark in shown:
        when = _clock(mark.at, tz) if mark.at else "with its slot"
        if mark.status == "failed":
            parts.append((f"✗ {mark.label}: {mark.detail}  ", "bold red"))
        else:
            parts.append(f"{mark.label} {when}  ")
    return _line(*parts)


_VERDICT_RANK = {"fail": 0, "warn": 1, "checking": 2, "not checked": 3, "pass": 4}
_VERDICT_MARKS = {
    "fail": ("✗", "bold red"),
    "warn": ("!", "bold yellow"),
    "checking": ("…", "dim"),
    "not checked": ("?", "dim"),
    "pass": ("✓", "green"),
}
_CHECKS_LABEL = "checks "


def _by_speaker(checks: tuple[CheckResult, ...]) -> dict[str, list[CheckResult]]:
    by_speaker: dict[str, list[CheckResult]] = {}
    for check in checks:
        by_speaker.setdefault(check.name, []).append(check)
    return by_speaker


def _worst(checks: list[CheckResult]) -> str:
    return min((c.verdict for c in checks), key=lambda v: _VERDICT_RANK.get(v, 3))


def _bad_parts(checks: list[CheckResult]) -> str:
    """ "audio (peak -73 dBFS)", "video (luma 0/255), audio": the parts that did not pass."""
    words = []
    for check in sorted(checks, key=lambda c: _VERDICT_RANK.get(c.verdict, 3)):
        if check.verdict in ("fail", "warn"):
            words.append(f"{check.part} ({check.value})" if check.value else check.part)
    return ", ".join(words)


def _checks_lines(state: SessionState, width: int) -> list[Text]:
    """The speaker checks, failures and warnings first and whole (wrapped onto more lines,
    never cut); the speakers still checking and those that passed get the room left,
    by name if they fit, else counted."""
    label = _CHECKS_LABEL
    if not state.checks:
        return [_line((label, "bold"), ("none yet (c runs them)", "dim"))]
    groups = sorted(
        _by_speaker(state.checks).items(), key=lambda item: _VERDICT_RANK.get(_worst(item[1]), 3)
    )
    tokens: list[Text] = []
    rest: dict[str, list[str]] = {}
    for name, checks in groups:
        verdict = _worst(checks)
        if verdict in ("fail", "warn"):
            sign, style = _VERDICT_MARKS[verdict]
            tokens.append(Text.assemble((f"{sign} {name}", style), f" {_bad_parts(checks)}"))
        else:
            rest.setdefault(verdict, []).append(name)
    # The others, by name if the whole line has room for them, else counted.
    # Why a part was not checked ("audio not on air": a microphone OBS cannot hear until
    # its scene is on program), said once for all of them.
    why = sorted(
        {f"{c.part} {c.value}" for c in state.checks if c.verdict == "not checked" and c.value}
    )
    summaries: list[tuple[Text, Text]] = []
    for verdict in ("checking", "not checked", "pass"):
        names = rest.get(verdict, [])
        if not names:
            continue
        sign, style = _VERDICT_MARKS[verdict]
        word = {"pass": "passed", "checking": "checking", "not checked": "not checked"}[verdict]
        reason = f" ({', '.join(why)})" if verdict == "not checked" and why else ""
        summaries.append(
            (
                Text(f"{sign} {' '.join(names)}{reason}", style=style),
                Text(f"{sign} {len(names)} {word}{reason}", style=style),
            )
        )
    indent = " " * cell_len(label)
    room = max(1, width - len(indent))
    lines: list[Text] = [Text(label, style="bold")]
    gap = "  "

    def place(token: Text) -> None:
        current = lines[-1]
        if current.cell_len > len(indent) and current.cell_len + len(gap) + token.cell_len > width:
            lines.append(Text(indent))
            current = lines[-1]
        elif current.cell_len > len(indent):
            current.append(gap)
        if token.cell_len > room:  # a failure longer than the screen: folded, never cut
            for piece in token.wrap(_measuring_console(), room, overflow="fold"):
                if lines[-1].cell_len > len(indent):
                    lines.append(Text(indent))
                lines[-1].append_text(piece)
            return
        current.append_text(token)

    for token in tokens:
        place(token)
    for whole, counted in summaries:
        used = lines[-1].cell_len
        fits = used + len(gap) + whole.cell_len <= width or used <= len(indent)
        place(whole if fits and whole.cell_len <= room else counted)
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return lines


def _hint_lines(state: SessionState, width: int) -> list[Text]:
    """One line per failing or doubtful part: its hint (what to ask the speaker)."""
    bad = [c for c in state.checks if c.verdict in ("fail", "warn") and c.hint]
    bad.sort(key=lambda c: _VERDICT_RANK.get(c.verdict, 3))
    lines = []
    for check in bad:
        sign, style = _VERDICT_MARKS[check.verdict]
        line = _line(
            " " * cell_len(_CHECKS_LABEL),
            (f"{sign} {check.name} {check.part}: ", style),
            check.hint,
        )
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    return lines


def _next_verdict(state: SessionState, slot: SlotView) -> list[tuple[str, str]]:
    """Each of the next slot's speakers with their check: "佐藤 花子 ✓ checked"."""
    by_speaker = _by_speaker(state.checks)
    parts: list[tuple[str, str]] = []
    for i, name in enumerate(slot.speakers):
        parts.append((", " if i else " · ", ""))
        parts.append((name, ""))
        checks = by_speaker.get(name)
        if not checks:
            parts.append((" ? not checked", "dim"))
            continue
        verdict = _worst(checks)
        sign, style = _VERDICT_MARKS.get(verdict, ("?", "dim"))
        if verdict in ("fail", "warn"):
            bad = ", ".join(c.part for c in checks if c.verdict == verdict)
            word = "failed" if verdict == "fail" else "to look at"
            parts.append((f" {sign} {bad} {word}", style))
        elif verdict == "pass":
            parts.append((f" {sign} checked", style))
        else:
            parts.append((f" {sign} {verdict}", style))
    return parts


def _message_lines(
    messages: tuple[ShowMessage, ...], rows: int, tz: tzinfo, logs: deque[str]
) -> list[Text]:
    log_line = None
    if logs and rows > 1:  # a log line (the OBS link, ...) while the screen is ours
        rows -= 1
        log_line = _line(("     log          ", "dim"), (logs[-1], "yellow"))
    lines: list[Text] = []
    for message in messages[-rows:] if rows > 0 else ():
        icon, style = LEVEL_STYLES.get(message.level, ("·", "default"))
        lines.append(
            _line(
                (f"{message.seq:>4} ", "dim"),
                (f"{_clock(message.at, tz)} ", "dim"),
                (f"{icon} {message.text}", style),
            )
        )
    lines.extend(_line("") for _ in range(rows - len(lines)))
    if log_line is not None:
        lines.append(log_line)
    return lines


def _messages_rule(messages: tuple[ShowMessage, ...], rows: int, width: int) -> Text:
    if not messages:
        title = " messages: none yet "
    else:
        first = messages[-rows].seq if 0 < rows < len(messages) else messages[0].seq
        last = messages[-1].seq
        earlier = " (earlier ones: in the log printed at the end)" if first > 1 else ""
        title = f" messages {first}–{last} of {last}{earlier} "
    return Text(("─" * 2 + title).ljust(width, "─")[:width], style="dim", no_wrap=True)


def _help_lines(rows: int, width: int) -> list[Text]:
    lines = [_line(("keys", "bold"), "  (a key that does not apply says why, below)")]
    if rows < len(KEY_HELP) + 1 or width < 60:
        lines = []  # short of room: the keys alone, each line a key
    for key, what in KEY_HELP:
        line = _line((f"  {key:<4}", "bold cyan"), f" {what}")
        if line.cell_len > width:  # a narrow terminal: the key and the words before "("
            line = _line((f"  {key:<4}", "bold cyan"), f" {what.split(' (')[0]}")
        lines.append(line)
    lines = lines[:rows]
    lines.extend(Text("") for _ in range(rows - len(lines)))
    return lines


@functools.cache
def _measuring_console() -> Console:
    # Text.wrap asks a console for its tab size only; this one never prints.
    return Console(file=io.StringIO(), width=80)


def _answer_lines(ui: BoardUI, width: int) -> list[Text]:
    """The answer to the last key, or the line being typed (wrapped, the cursor in view)."""
    if ui.input is not None:
        text = Text.assemble((ui.input.prompt, "bold yellow"), ui.input.text, ("█", "blink"))
        lines = list(text.wrap(_measuring_console(), max(1, width), overflow="fold"))
        for line in lines:
            line.no_wrap = True
            line.rstrip()
        return lines[-MAX_INPUT_LINES:]
    if ui.result is None:
        return [_line(("ready: press a key (? for help)", "dim"))]
    sign, style = ("✓", "green") if ui.result.ok else ("✗", "bold red")
    if ui.asking:
        sign, style = ("?", "bold yellow")
    return [_line((f"{sign} {ui.result_key}: ", style), ui.result.message)]


def render(
    state: SessionState,
    now: datetime,
    *,
    ui: BoardUI,
    width: int,
    height: int,
    speed: float = 1.0,
    tz: tzinfo | None = None,
) -> RenderableType:
    """The whole dashboard for `state` at `now`, `height` lines of at most `width` cells.

    Times are shown in `tz` (by default the zone the state's times carry: the event's).
    """
    show = state.show
    tz = tz or _tz(show)
    scale = 2 if width >= 120 and height >= 40 else 1
    answer = _answer_lines(ui, width)
    checks = _checks_lines(state, width)
    # Fixed: header, countdown, next, answer, notes, key hints. Around the shared lines:
    # the table's header, outputs, marks, the checks and the messages' rule.
    fixed = 1 + 5 * scale + 1 + len(answer) + len(ui.notes) + 1
    room = max(1, height - fixed - 4 - 2)
    if len(checks) > room:  # more failures than a screen: say how to see the rest
        hidden = sum(line.plain.count("✗ ") + line.plain.count("! ") for line in checks[room - 1 :])
        more = f"{' ' * cell_len(_CHECKS_LABEL)}… {hidden} more to look at: /control lists them all"
        checks = [*checks[: room - 1], _line((more, "bold red"))]
    flex = max(2, height - fixed - 4 - len(checks))
    upcoming = sum(1 for s in show.slots if s.state == "upcoming")
    # The MC's cards take what they need (wrapped) first; a row of the table and one
    # message stay.
    cards = card_lines(state.cards, show, now, card_rows(flex), width, budget=flex - 2)
    if ui.help:
        cards = []  # the whole help fits even on 80×24
    flex = max(2, flex - len(cards))
    # With room to spare, what to do about each failure (the check's hint, in the
    # event's language: what to ask the speaker) under the checks.
    hints = _hint_lines(state, width)
    if flex - len(hints) >= 8:
        checks, flex = checks + hints, flex - len(hints)
    table_rows = max(1, min(upcoming, flex // 2)) if upcoming else 1
    message_rows = max(0, flex - table_rows)
    parts: list[RenderableType] = [
        _header(state, now, tz, speed),
        *_now_block(state, now, tz, width, scale),
        _next_line(state, tz, width),
        *cards,
    ]
    if ui.help:
        parts.extend(_help_lines(table_rows + message_rows + 4 + len(checks), width))
    else:
        parts.append(_timetable_lines(show.slots, tz, table_rows, width))
        parts.append(
            _line(
                *_output("stream", state.stream),
                "   ",
                *_output("record", state.record),
                *_health(state.health),
                *_notify(state.notify),
            )
        )
        parts.append(_marks_line(show, tz))
        parts.extend(checks)
        parts.append(_messages_rule(state.messages, message_rows, width))
        parts.extend(_message_lines(state.messages, message_rows, tz, ui.logs))
    parts.extend(answer)
    for note in ui.notes:
        # The URL is what counts: on a narrow terminal its "(…)" comment goes first.
        if cell_len(note) > width and "  (" in note:
            note = note.split("  (")[0]
        parts.append(_line((note, "dim")))
    keys = KEY_HINTS if ui.keys_on else "keys off: stdin is not a terminal"
    parts.append(_line((keys, "dim")))
    return Group(*parts)


# ------------------------------------------------------------------- the surface


class _LogToBoard(logging.Handler):
    """While the screen is the dashboard's, log lines go to it, and to stderr afterwards."""

    def __init__(self, ui: BoardUI) -> None:
        super().__init__(logging.WARNING)
        self.ui = ui
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.ui.logs.append(f"{record.levelname.lower()}: {record.getMessage()}")
        self.ui.changed()


@contextlib.contextmanager
def _logs_to(ui: BoardUI) -> Iterator[None]:
    root = logging.getLogger()
    streams = [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler) and getattr(h.stream, "isatty", lambda: False)()
    ]
    board = _LogToBoard(ui)
    for handler in streams:
        root.removeHandler(handler)
    root.addHandler(board)
    try:
        yield
    finally:
        root.removeHandler(board)
        for handler in streams:
            root.addHandler(handler)
            for record in board.records:
                if record.levelno >= handler.level:
                    handler.handle(record)


class Dashboard:
    """The terminal dashboard as a session attachment (`attach`), keys included."""

    def __init__(
        self, cfg: EventConfig, console: Console | None = None, *, stdin_fd: int | None = None
    ) -> None:
        self.cfg = cfg
        self.console = console or Console(highlight=False)
        self.stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
        self.notes: list[str] = []

    def note(self, line: str) -> None:
        """A line the host needs the whole show (the web app's URLs): kept on screen.

        Never part of the session state: a URL may carry the host page's token.
        """
        self.notes.append(line)
        self.console.print(line, markup=False, highlight=False)

    def attach(self, session: ShowSession) -> None:
        """Show `session` on the terminal while it runs, and take the host's keys."""
        session.attach("the dashboard", lambda s: _Board(self, s).run())


def _visible(state: SessionState) -> tuple[Any, ...]:
    """What of `state` the screen shows: a new state that changes none of it (the
    status poll's every two seconds) is no reason to repaint."""
    show = dataclasses.replace(state.show, now="", version=0, time_left_s=None)
    last = state.messages[-1].seq if state.messages else 0
    outputs = tuple(
        None if v is None else dataclasses.replace(v, duration_s=int(v.duration_s), bytes=0)
        for v in (state.stream, state.record)
    )
    return (show, state.link, outputs, state.checks, last)


class _Board:
    """The dashboard of one running show: the screen, the keys, the signals."""

    def __init__(self, dashboard: Dashboard, session: ShowContext) -> None:
        self.cfg = dashboard.cfg
        self.console = dashboard.console
        self.stdin_fd = dashboard.stdin_fd
        self.session = session
        self.ui = BoardUI(notes=dashboard.notes)
        self.state = session.state
        self._wake = asyncio.Event()
        self._seen_version = -1
        self._visible: tuple[Any, ...] = ()
        self.keys_clock: Callable[[], float] = time.monotonic  # real seconds, for "again"
        self._armed: tuple[str, float] | None = None  # (key, until): a risky key pressed once

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """The attachment: the screen and keys for as long as the show runs."""
        feed = self.session.feed()
        with contextlib.ExitStack() as stack:
            # Left in the reverse order: signals and keys first, then the screen, then
            # the log of the show and the log lines held back (on the normal screen).
            stack.enter_context(_logs_to(self.ui))
            stack.callback(self._after)
            live = Live(
                console=self.console,
                screen=True,
                auto_refresh=False,  # no refresh thread: the painter below runs on the loop
                redirect_stdout=True,
                redirect_stderr=True,
            )
            stack.enter_context(live)
            self.ui.keys_on = TerminalKeys.usable(self.stdin_fd)
            if self.ui.keys_on:
                stack.enter_context(TerminalKeys(self.stdin_fd, self.on_key))
            stack.callback(on_signal(signal.SIGINT, lambda: self.on_key(CTRL_C)))
            if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                # Nobody else (live's SIGTERM detach) takes it: SIGTERM must not leave the
                # terminal in cbreak mode, so it detaches the show as in `live`.
                stack.callback(on_signal(signal.SIGTERM, self._on_sigterm))
            task = self.session.spawn(self._paint(live, feed), "the dashboard", with_show=False)
            try:
                yield
            finally:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _paint(self, live: Live, feed: AsyncIterator[SessionState]) -> None:
        async def follow() -> None:
            async for state in feed:
                self.state = state
                self._wake.set()

        follower = asyncio.create_task(follow(), name="the dashboard's feed")
        last: tuple[Any, ...] = ()
        try:
            while True:
                key = self._frame_key()
                if key != last:
                    last = key
                    live.update(self._frame(), refresh=True)
                if follower.done():
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(REFRESH_S):
                        await self._wake.wait()
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    def _now(self) -> datetime:
        time = self.session.time
        return time.wall(time.now())

    def _frame_key(self) -> tuple[Any, ...]:
        # Repaint only when something on screen changes: about once a second while
        # waiting, at most every REFRESH_S when a sped-up rehearsal runs the clock fast.
        now = self._now()
        left = time_left(self.state.show, now)
        start = until_start(self.state.show, now)
        if self._seen_version != self.state.version:
            self._seen_version = self.state.version
            self._visible = _visible(self.state)
        return (
            self._visible,
            self.ui.version,
            tuple(self.console.size),
            int(now.timestamp()),
            None if left is None else countdown_text(left),
            None if start is None else countdown_text(start),
        )

    def _frame(self) -> RenderableType:
        size = self.console.size
        return render(
            self.state,
            self._now(),
            ui=self.ui,
            width=size.width,
            height=size.height,
            speed=self.session.speed,
            tz=self.cfg.tz,
        )

    def _after(self) -> None:
        """The screen is closed: the show's whole message log (the report follows)."""
        tz = self.cfg.tz
        self.console.print(f"[bold]{escape(self.state.show.title)}[/] — the show's messages:")
        for message in self.state.messages:
            icon, style = LEVEL_STYLES.get(message.level, ("·", "default"))
            self.console.print(
                f"[dim]{message.seq:>4} {_clock(message.at, tz)}[/] "
                f"[{style}]{icon} {escape(message.text)}[/]",
                highlight=False,
            )
        if self.ui.input is not None and self.ui.input.purpose == "quit":
            self.console.print("(the show has ended; the Ctrl-C question was left unanswered)")

    # ------------------------------------------------------------------- keys

    def on_key(self, key: str) -> None:
        """One key from the terminal (or Ctrl-C from SIGINT)."""
        ui = self.ui
        ui.changed()
        self._wake.set()
        armed, self._armed = self._armed, None
        ui.asking = False
        if ui.input is not None:
            outcome = ui.input.feed(key)
            if outcome == "submit":
                line, ui.input = ui.input, None
                self._submit_line(line)
            elif outcome == "cancel":
                ui.input = None
            return
        if key in ("q", "Q", CTRL_C):
            prompt = CTRL_C_QUESTION.strip() + " "
            if key != CTRL_C:
                prompt = prompt.replace("Ctrl-C:", "quit:", 1)
            ui.input = LineInput(prompt, "quit")
        elif key == "m":
            ui.input = LineInput("message for the speaker timer (Enter sends, empty clears): ", "m")
        elif key == "?":
            ui.help = not ui.help
        elif key == ESC:
            ui.help = False
        elif key in (CTRL_Z, CTRL_BACKSLASH):
            ui.result_key = "Ctrl-Z" if key == CTRL_Z else "Ctrl-\\"
            ui.result = CommandResult(False, "off while the show runs (q quits)")
        elif (command := key_command(key, self.state.show)) is not None:
            again = armed is not None and armed[0] == key and self.keys_clock() <= armed[1]
            why = None if again else self._risky(command)
            if why is None:
                self._send(self.session.submit(command, source="keys"), key)
            else:
                self._armed = (key, self.keys_clock() + CONFIRM_WITHIN_S)
                ui.asking = True
                ui.result_key = key
                ui.result = CommandResult(
                    False, f"press {key} again within {CONFIRM_WITHIN_S:g} s to {why}"
                )
        elif key.isprintable() and key.strip():
            ui.result_key = key
            ui.result = CommandResult(False, "not a key of the dashboard (? shows the keys)")

    def _risky(self, command: dict[str, Any]) -> str | None:
        """What the key's command would do when it must be confirmed (live), else None."""
        try:
            parsed = parse_command(command)
        except BadCommand:
            return None  # the show refuses it and says why
        return needs_confirming(parsed, self.state.show, self._now())

    def _submit_line(self, line: LineInput) -> None:
        if line.purpose == "m":
            message = {"command": "message", "text": line.text}
            self._send(self.session.submit(message, source="keys"), "m")
            return
        answer = line.text.strip().casefold()
        make = CTRL_C_ANSWERS.get(answer)
        if make is None:
            self.ui.result_key = "q"
            self.ui.result = CommandResult(True, "going on")
            return
        # The answer to the quit question is journaled as the prompt's, as on the console.
        self._send(self.session.submit(make(), source="prompt"), answer)

    def _send(self, submitting: Coroutine[Any, Any, CommandResult], key: str) -> None:
        async def send() -> None:
            result = await submitting
            self.ui.result_key = key
            self.ui.result = result
            self.ui.changed()
            self._wake.set()

        try:
            self.session.spawn(send(), f"key {key!r}")
        except RuntimeError:  # the show has stopped: nothing takes commands any more
            submitting.close()
            self.ui.result = CommandResult(False, "the show is not running")

    def _on_sigterm(self) -> None:
        self._send(self.session.submit({"command": "detach"}, source="signal"), "SIGTERM")


def choose_surface(cfg: EventConfig, *, plain: bool) -> CueLog | Dashboard:
    """The dashboard on a terminal; plain log lines with `--plain` or when stdout is not one."""
    if plain or not sys.stdout.isatty():
        return CueLog(cfg)
    return Dashboard(cfg)


__all__ = [
    "REFRESH_S",
    "BoardUI",
    "Dashboard",
    "big_digits",
    "choose_surface",
    "countdown_style",
    "countdown_text",
    "render",
    "time_left",
    "until_start",
]
