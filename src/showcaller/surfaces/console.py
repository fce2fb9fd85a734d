"""Plain console output for rehearse/live: one line per cue, and the closing report.

A surface: it follows the session's published `SessionState` and prints the final
`ShowReport`; it holds no show logic. (The full rich dashboard with keys comes with its own issue.)
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from showcaller.config import EventConfig
from showcaller.show.context import follow
from showcaller.show.session import ShowSession
from showcaller.show.state import SessionState, ShowReport
from showcaller.words import plural


def _clock(iso: str, cfg: EventConfig) -> str:
    if not iso:
        return "-"
    # Rounded, not truncated: a cue sent 30 ms early for 19:30:00 reads 19:30:00.
    moment = datetime.fromisoformat(iso) + timedelta(milliseconds=500)
    return moment.astimezone(cfg.tz).strftime("%H:%M:%S")


class CueLog:
    """The plain console surface: a line per slot on air, per message, and the show's end.

    Follows the session's state feed (outside the cue loop); prints every numbered
    message once, however many arrive between two looks.
    """

    def __init__(self, cfg: EventConfig, console: Console | None = None) -> None:
        self.cfg = cfg
        # Not a terminal (a log, CI): wide enough that the report's table stays readable.
        width = None if sys.stdout.isatty() else 132
        self.console = console or Console(highlight=False, width=width)
        self._seq = 0
        self._total = len(cfg.slots_resolved())

    def note(self, line: str) -> None:
        """A line for the host only (the web app's URLs; never part of the state)."""
        self.console.print(line, markup=False, highlight=False)

    def attach(self, session: ShowSession) -> None:
        """Follow `session` while it runs; say what the show waits for, if anything."""
        session.attach("the console", lambda s: follow(s, self._update))
        state = session.show.state
        if state.on_air is None and state.next is not None:
            start = datetime.fromisoformat(state.next.expected_start)
            wait = start - datetime.fromisoformat(state.now)
            minutes = max(0, round(wait.total_seconds() / 60))
            self.console.print(
                f"waiting for {state.next.title!r} at {_clock(state.next.expected_start, self.cfg)}"
                f" ({start.astimezone(self.cfg.tz):%Y-%m-%d}, in {minutes} min of show time)"
            )
        for mark in state.marks:
            if mark.status == "due" and mark.at is not None:
                self.console.print(f"  · {escape(mark.label)} at {_clock(mark.at, self.cfg)}")

    def _update(self, state: SessionState) -> None:
        slots = {v.index: v for v in state.show.slots}
        for message in state.messages:
            if message.seq <= self._seq:
                continue
            self._seq = message.seq
            if message.level == "cue" and message.slot is not None and message.slot in slots:
                slot = slots[message.slot]
                who = f" — {', '.join(slot.speakers)}" if slot.speakers else ""
                # The moment it was cued for, not the moment this line is printed: the
                # switch goes out a little early to land on time.
                self.console.print(
                    f"[bold]{_clock(message.at, self.cfg)}[/] ▶ {slot.index + 1}/{self._total} "
                    f"[cyan]{slot.kind}[/] {escape(slot.title)}{escape(who)} → scene "
                    f"[green]{escape(slot.scene)}[/]"
                )
            elif message.level in ("warning", "problem"):
                self.console.print(f"[yellow]  ! {escape(message.text)}[/]")
            elif message.level == "end":
                self.console.print(f"[bold]{_clock(message.at, self.cfg)}[/] ■ {message.text}")
            else:
                self.console.print(f"  · {escape(message.text)}")


# From this width the report also shows the engineering columns (scene, sent/landed ms).
WIDE_REPORT = 110


def print_report(cfg: EventConfig, report: ShowReport, console: Console) -> None:
    """Every cue planned vs actual, then warnings and problems, then one verdict line.

    On a narrow terminal (80 columns) the table keeps what the host reads — slot, planned,
    actual, delay, note — and titles wrap rather than being cut; the scene and the
    milliseconds to the request and to OBS's change come from `WIDE_REPORT` columns.
    """
    wide = console.width >= WIDE_REPORT
    table = Table(
        title=f"{report.title} — {report.mode} report",
        title_justify="left",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("slot", max_width=28 if wide else None, ratio=None if wide else 3)
    if wide:
        table.add_column("scene")
    table.add_column("planned", justify="right", no_wrap=True)
    table.add_column("actual", justify="right", no_wrap=True)
    table.add_column("delay", justify="right", no_wrap=True)
    if wide:
        table.add_column("sent ms", justify="right", no_wrap=True)
        table.add_column("landed ms", justify="right", no_wrap=True)
    table.add_column("note", ratio=None if wide else 1)
    slots = cfg.slots_resolved()
    origin = slots[0].start
    speed = report.speed or 1.0
    previous_scene: str | None = None
    for cue in report.cues:
        slot = slots[cue.slot_index]
        cued = origin + timedelta(seconds=cue.deadline)
        delay = (cued - slot.start).total_seconds()
        by_host = cue.reason == "command"
        sent = "-" if by_host else f"{(cue.sent - cue.deadline) / speed * 1000:+.1f}"
        landed = (
            "-"
            if by_host or cue.landed is None
            else f"{(cue.landed - cue.deadline) / speed * 1000:+.0f}"
        )
        notes = [cue.error or ""]
        if cue.caught_up:
            notes.append("caught up")
        if by_host:
            notes.append("host command")
        if cue.landed is None and cue.error is None and not by_host:
            # OBS reports no change to the scene already on air.
            notes.append("same scene" if cue.scene == previous_scene else "OBS sent no change")
        previous_scene = cue.scene
        note = ", ".join(n for n in notes if n)
        cells = [
            str(cue.slot_index + 1),
            escape(cue.title),
            *([escape(cue.scene)] if wide else []),
            f"{slot.start.astimezone(cfg.tz):%H:%M:%S}",
            f"{cued.astimezone(cfg.tz):%H:%M:%S}",
            _minutes(delay),
            *([sent, landed] if wide else []),
            f"[red]{escape(note)}[/]" if cue.error else escape(note),
        ]
        table.add_row(*cells)
    for index in report.passed:
        # Never on air (showcaller frozen or stopped across it, or a jump past it): said.
        slot = slots[index]
        cells = [
            str(index + 1),
            escape(slot.title),
            *([escape(slot.scene)] if wide else []),
            f"{slot.start.astimezone(cfg.tz):%H:%M:%S}",
            "—",
            "",
            *(["", ""] if wide else []),
            "[yellow]passed over: never on air[/]",
        ]
        table.add_row(*cells)
    console.print(table)
    what = "actual: when the timetable put the slot on air (planned + delay)"
    if wide:
        console.print(
            f"{what}; sent/landed: real milliseconds from that moment to the request and to "
            f"OBS's change event (speed ×{speed:g}; negative = sent early to compensate OBS's "
            "switch time)"
        )
    else:
        console.print(f"{what}; at {WIDE_REPORT}+ columns also the scene and OBS's timing")
    if report.health:
        console.print(report.health, markup=False)
    for text in report.warnings:
        console.print(f"[yellow]warning:[/] {text}")
    for text in report.problems:
        console.print(f"[red]problem:[/] {text}")
    cues = plural(len(report.cues), "cue")
    if report.ok:
        state = "ended" if report.ended else "stopped before the end"
        console.print(f"[bold green]OK[/]: {cues}, show {state}, no problems")
    elif report.mode == "live":
        console.print(
            f"[bold red]{plural(len(report.problems), 'problem')}[/] in the live show: "
            "each is above, with what happened on air; the journal has the whole show"
        )
    else:
        console.print(
            f"[bold red]{plural(len(report.problems), 'problem')}[/]: "
            "these would go wrong live; fix them and rehearse again"
        )


def _minutes(seconds: float) -> str:
    if abs(seconds) < 0.5:
        return "0"
    sign = "+" if seconds > 0 else "-"
    m, sec = divmod(round(abs(seconds)), 60)
    return f"{sign}{m}:{sec:02d}"
