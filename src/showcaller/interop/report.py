"""The report of a show, from its journal alone: planned vs actual, problems, checks, outputs.

`build(run)` reads a `Run` into a `Report`; `render(run, fmt)` writes it as Markdown
(`md`), CSV (one row per slot) or one self-contained HTML page with the evening drawn
as a timeline (`timeline.py`). Times are the event's wall clock (its zone); lengths and
delays are show seconds (a sped-up rehearsal's are what the live show would have had).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from showcaller.interop.runs import PlanSlot, Run
from showcaller.show.journal import Kind
from showcaller.words import plural

# A slot that ran this much longer than planned (show seconds) counts as an overrun.
OVERRUN_S = 1.0


@dataclass(frozen=True)
class SlotLine:
    """One slot: planned and actual (show seconds; None when it did not happen)."""

    slot: PlanSlot
    start: float | None
    end: float | None
    skipped: bool
    late_ms: float | None
    passed: bool = False  # passed over: never on air

    @property
    def planned_s(self) -> float:
        """Planned length."""
        return self.slot.end - self.slot.start

    @property
    def actual_s(self) -> float | None:
        """Actual length, when the slot started and ended."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def delay_s(self) -> float | None:
        """How late (+) or early (-) it started."""
        return None if self.start is None else self.start - self.slot.start

    @property
    def over_s(self) -> float | None:
        """How much longer (+) or shorter (-) than planned it ran."""
        actual = self.actual_s
        return None if actual is None else actual - self.planned_s

    @property
    def overran(self) -> bool:
        """It ran longer than planned and than its configured grace (`end = N`): a grace
        used as planned is the plan working, not an overrun."""
        return (self.over_s or 0.0) > self.slot.grace_s + OVERRUN_S


@dataclass(frozen=True)
class Said:
    """A problem, warning or fact at a moment of the show."""

    at: float
    text: str


@dataclass
class Report:
    """Everything the report shows of one run."""

    run: Run
    lines: list[SlotLine]
    problems: list[Said] = field(default_factory=list)
    warnings: list[Said] = field(default_factory=list)
    checks: list[Mapping[str, Any]] = field(default_factory=list)  # newest per speaker, part
    failed_checks: int = 0
    stream: list[Said] = field(default_factory=list)
    record: list[Said] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    commands: list[Said] = field(default_factory=list)
    on_air: tuple[float, float | None] | None = None  # the stream's span
    recording: tuple[float, float | None] | None = None  # the recording's span

    @property
    def end(self) -> float:
        """The last moment the report knows of."""
        times = [ln.end for ln in self.lines if ln.end is not None] + [
            ln.slot.end for ln in self.lines
        ]
        return max(times)


_STREAM_WORDS = {
    "start": "showcaller started the stream",
    "started": "OBS: the stream started",
    "on_air": "the stream is on air",
    "not_on_air": "the stream was NOT on air after starting it",
    "reconnecting": "OBS: the stream is reconnecting",
    "reconnected": "OBS: the stream reconnected",
    "stop": "showcaller stopped the stream",
    "stopped": "OBS: the stream stopped",
    "test_target": "stream test: streaming to the rehearsal target",
    "restored": "stream test: OBS's own stream settings put back",
}
_RECORD_WORDS = {
    "start": "showcaller started the recording",
    "started": "OBS: the recording started",
    "split": "the recording was split",
    "chapter": "a chapter marker was added",
    "restart": "the recording was restarted",
    "stop": "showcaller stopped the recording",
    "stopped": "OBS: the recording stopped",
    "paused": "OBS: the recording paused",
    "resumed": "OBS: the recording resumed",
}


def _span(run: Run, kind: str) -> tuple[float, float | None] | None:
    began: float | None = None
    ended: float | None = None
    for h in run.of(kind):
        action = h.data.get("action")
        if action == "started" and began is None:
            began = h.at
        elif action == "stopped" and began is not None:
            ended = h.at
    return None if began is None else (began, ended)


def build(run: Run) -> Report:
    """The report of `run`."""
    slot_runs = run.slot_runs()
    lines = []
    for slot in run.slots:
        r = slot_runs.get(slot.index)
        lines.append(
            SlotLine(
                slot=slot,
                start=r.start if r else None,
                end=r.end if r else None,
                skipped=r.skipped if r else False,
                late_ms=r.late_ms if r else None,
                passed=r.passed if r else False,
            )
        )
    report = Report(run=run, lines=lines)
    for h in run.of(Kind.WARNING):
        said = Said(h.at, str(h.data.get("text", "")))
        (report.problems if h.data.get("problem") else report.warnings).append(said)
    newest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for h in run.of(Kind.CHECK):
        newest[(str(h.data.get("speaker")), str(h.data.get("part")))] = {**h.data, "at_s": h.at}
        report.failed_checks += h.data.get("verdict") == "fail"
    report.checks = list(newest.values())
    for h in run.of(Kind.STREAM):
        action = str(h.data.get("action", ""))
        if action not in ("starting", "stopping"):
            report.stream.append(Said(h.at, _STREAM_WORDS.get(action, f"stream: {action}")))
    for h in run.of(Kind.RECORD):
        action = str(h.data.get("action", ""))
        path = h.data.get("path")
        if action in ("started", "file") and isinstance(path, str) and path:
            name = PurePath(path).name
            if name not in report.files:
                report.files.append(name)
        if action in _RECORD_WORDS:
            report.record.append(Said(h.at, _RECORD_WORDS[action]))
    for h in run.of(Kind.COMMAND, Kind.REJECTED, Kind.ANSWER):
        source = f"(from {h.data.get('source')})"
        if h.kind == Kind.COMMAND:
            report.commands.append(Said(h.at, f"{h.data.get('command')} {source}"))
        elif h.kind == Kind.ANSWER and report.commands:
            # The command in words, where the show said what it did.
            report.commands[-1] = Said(report.commands[-1].at, f"{h.data.get('answer')} {source}")
        elif h.kind == Kind.REJECTED:
            refused = f"{h.data.get('command')} {source} — refused: {h.data.get('reason')}"
            if report.commands and report.commands[-1].text == f"{h.data.get('command')} {source}":
                report.commands[-1] = Said(report.commands[-1].at, refused)
            else:
                report.commands.append(Said(h.at, refused))
    report.on_air = _span(run, Kind.STREAM)
    report.recording = _span(run, Kind.RECORD)
    return report


# ------------------------------------------------------------------------ formatting


def clock(run: Run, show_s: float | None) -> str:
    """A moment as the event's wall clock, HH:MM:SS ("" for None)."""
    return "" if show_s is None else run.wall(show_s).strftime("%H:%M:%S")


def signed(seconds: float | None) -> str:
    """+M:SS / -M:SS ("" for None, "±0:00" within a second)."""
    if seconds is None:
        return ""
    if abs(seconds) < 1:
        return "±0:00"
    sign = "+" if seconds > 0 else "-"
    return sign + length(abs(seconds))


def length(seconds: float | None) -> str:
    """M:SS or H:MM:SS ("" for None)."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def run_summary(report: Report) -> str:
    """One line: mode, date, speed, how it ended, resumptions."""
    run = report.run
    how = "ended" if run.ended else "stopped before the end" if run.complete else "incomplete"
    parts = [f"{run.mode} on {run.wall(0):%Y-%m-%d} ({run.timezone})", how]
    if run.speed != 1:
        parts.append(f"ran x{run.speed:g} (times are show time)")
    if run.resumes:
        parts.append(f"resumed {plural(run.resumes, 'time')}")
    over = sum(1 for ln in report.lines if ln.overran)
    parts.append(f"{plural(len(report.problems), 'problem')}, {plural(over, 'overrun')}")
    return ", ".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    """The report as Markdown."""
    run = report.run
    out = [f"# {run.heading}", "", run_summary(report), "", "## Planned vs actual", ""]
    out.append("| # | slot | speakers | planned | actual | delay | length (plan → actual) |")
    out.append("|---|---|---|---|---|---|---|")
    for ln in report.lines:
        s = ln.slot
        actual = "skipped" if ln.skipped else f"{clock(run, ln.start)}–{clock(run, ln.end)}"
        if ln.start is None and not ln.skipped:
            actual = "**passed over** (never on air)" if ln.passed else "not reached"
        over = f" ({signed(ln.over_s)} **overrun**)" if ln.overran else ""
        out.append(
            f"| {s.index + 1} | {_md_cell(s.title)} | {_md_cell(s.names)} | "
            f"{clock(run, s.start)}–{clock(run, s.end)} | {actual} | {signed(ln.delay_s)} | "
            f"{length(ln.planned_s)} → {length(ln.actual_s)}{over} |"
        )
    for title, items in (("Problems", report.problems), ("Warnings", report.warnings)):
        out += ["", f"## {title} ({len(items)})", ""]
        out += [f"- {clock(run, s.at)} {s.text}" for s in items] or ["- none"]
    out += ["", "## Speaker checks", ""]
    if report.checks:
        out.append("| speaker | part | verdict | value | at |")
        out.append("|---|---|---|---|---|")
        for c in report.checks:
            out.append(
                f"| {_md_cell(str(c.get('name')))} | {c.get('part')} | {c.get('verdict')} | "
                f"{_md_cell(str(c.get('value', '')))} | {clock(run, c.get('at_s'))} |"
            )
        out.append(
            f"\n{plural(report.failed_checks, 'failed check')} in all (the newest of each above)."
        )
    else:
        out.append("- no speaker checks in this run")
    out += ["", "## Stream and recording", ""]
    facts = sorted(report.stream + report.record, key=lambda s: s.at)
    out += [f"- {clock(run, s.at)} {s.text}" for s in facts] or ["- neither stream nor recording"]
    if report.files:
        out += ["", "Recording files:", ""] + [f"- {name}" for name in report.files]
    out += ["", f"## Host commands ({len(report.commands)})", ""]
    out += [f"- {clock(run, s.at)} {s.text}" for s in report.commands] or ["- none"]
    return "\n".join(out) + "\n"


CSV_FIELDS = (
    "index", "kind", "title", "speakers", "planned_start", "planned_end", "actual_start",
    "actual_end", "delay_s", "planned_s", "actual_s", "over_s", "overran", "skipped", "late_ms",
)  # fmt: skip


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def csv_text(report: Report) -> str:
    """The report as CSV: one row per slot (times ISO, lengths in seconds)."""
    run = report.run
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)

    def iso(show_s: float | None) -> str:
        return "" if show_s is None else run.wall(show_s).isoformat(timespec="seconds")

    for ln in report.lines:
        s = ln.slot
        writer.writerow(
            [
                s.index + 1,
                s.kind,
                s.title,
                s.names,
                iso(s.start),
                iso(s.end),
                iso(ln.start),
                iso(ln.end),
                _num(ln.delay_s),
                _num(ln.planned_s),
                _num(ln.actual_s),
                _num(ln.over_s),
                "yes" if ln.overran else "no",
                "yes" if ln.skipped else "no",
                _num(ln.late_ms),
            ]
        )
    return buffer.getvalue()


__all__ = ["Report", "Said", "SlotLine", "build", "csv_text", "markdown"]
