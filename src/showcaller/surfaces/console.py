"""Plain console output for rehearse/live: one line per cue, and the closing report.

A surface: it reads the published `ShowState` and the final `ShowReport`, and holds
no show logic. (The full rich dashboard with keys comes with its own issue.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Console
from rich.table import Table

from showcaller.config import EventConfig
from showcaller.engine import Show, ShowReport, ShowState


def _clock(iso: str, cfg: EventConfig) -> str:
    if not iso:
        return "-"
    # Rounded, not truncated: a cue sent 30 ms early for 19:30:00 reads 19:30:00.
    moment = datetime.fromisoformat(iso) + timedelta(milliseconds=500)
    return moment.astimezone(cfg.tz).strftime("%H:%M:%S")


class Progress:
    """Prints a line whenever a slot goes on air or a warning appears."""

    def __init__(self, cfg: EventConfig, console: Console | None = None) -> None:
        self.cfg = cfg
        self.console = console or Console(highlight=False)
        self._on_air: int | None = None
        self._warnings = 0
        self._total = len(cfg.slots_resolved())

    def attach(self, show: Show) -> None:
        """Follow `show`'s published state; say what the show waits for, if anything."""
        state = show.state
        if state.on_air is None and state.next is not None:
            start = datetime.fromisoformat(state.next.expected_start)
            wait = start - datetime.fromisoformat(state.now)
            minutes = max(0, round(wait.total_seconds() / 60))
            self.console.print(
                f"waiting for {state.next.title!r} at {_clock(state.next.expected_start, self.cfg)}"
                f" ({start.astimezone(self.cfg.tz):%Y-%m-%d}, in {minutes} min of show time)"
            )
        show.on_state(self._update)

    def _update(self, state: ShowState) -> None:
        if state.on_air is not None and state.on_air.index != self._on_air:
            slot = state.on_air
            self._on_air = slot.index
            who = f" — {', '.join(slot.speakers)}" if slot.speakers else ""
            self.console.print(
                f"[bold]{_clock(state.now, self.cfg)}[/] ▶ {slot.index + 1}/{self._total} "
                f"[cyan]{slot.kind}[/] {slot.title}{who} → scene [green]{slot.scene}[/]"
            )
        for text in state.warnings[self._warnings :]:
            self.console.print(f"[yellow]  ! {text}[/]")
        self._warnings = len(state.warnings)
        if state.phase == "ended" and self._on_air is not None:
            self.console.print(f"[bold]{_clock(state.now, self.cfg)}[/] ■ the show has ended")
            self._on_air = None


def print_report(cfg: EventConfig, report: ShowReport, console: Console) -> None:
    """Every cue planned vs actual, then warnings and problems, then one verdict line."""
    table = Table(title=f"{report.title} — {report.mode} report", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("slot")
    table.add_column("scene")
    table.add_column("planned", justify="right")
    table.add_column("sent (ms)", justify="right")
    table.add_column("landed (ms)", justify="right")
    table.add_column("note")
    slots = cfg.slots_resolved()
    origin = slots[0].start
    speed = report.speed or 1.0
    for cue in report.cues:
        planned = (origin + _seconds(cue.deadline)).astimezone(cfg.tz).strftime("%H:%M:%S")
        sent_ms = (cue.sent - cue.deadline) / speed * 1000
        landed = "-" if cue.landed is None else f"{(cue.landed - cue.deadline) / speed * 1000:+.0f}"
        note = cue.error or ("caught up" if cue.caught_up else "")
        if cue.reason == "command":
            note = (note + " host command").strip()
        table.add_row(
            str(cue.slot_index + 1),
            cue.title,
            cue.scene,
            planned,
            f"{sent_ms:+.1f}" if cue.reason != "command" else "-",
            landed if cue.reason != "command" else "-",
            f"[red]{note}[/]" if cue.error else note,
        )
    console.print(table)
    console.print(
        "sent/landed: real milliseconds after the planned moment "
        f"(speed ×{speed:g}; negative = early, by lead compensation)"
    )
    for text in report.warnings:
        console.print(f"[yellow]warning:[/] {text}")
    for text in report.problems:
        console.print(f"[red]problem:[/] {text}")
    if report.ok:
        state = "ended" if report.ended else "stopped before the end"
        console.print(f"[bold green]OK[/]: {len(report.cues)} cues, show {state}, no problems")
    else:
        console.print(
            f"[bold red]{len(report.problems)} problem(s)[/]: "
            "these would go wrong live; fix them and rehearse again"
        )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
