"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network)
that draws the evening as a timeline — per slot a thin planned bar and a thick actual
bar on one time axis, the part of a slot beyond its planned length in red, the stream's
and the recording's spans on top, problems and warnings marked at their moment — then
the same facts as tables below it."""

from __future__ import annotations

from html import escape

from showcaller.errors import UsageError
from showcaller.interop.report import (
    Report,
    Said,
    build,
    clock,
    csv_text,
    length,
    markdown,
    run_summary,
    signed,
)
from showcaller.interop.runs import Run, kind_label
from showcaller.words import plural

# Drawing sizes (SVG user units = CSS pixels at 100 %).
WIDTH = 1160
LABEL_W = 330
ROW_H = 34
TOP = 74  # room for the axis, the stream/recording bands and the markers
RIGHT = 24

_KIND_COLOURS = {
    "standby": "#9aa5b1",
    "opening": "#7c5cbf",
    "talk": "#2f6fdf",
    "lt": "#12a0a8",
    "qa": "#4a9d5b",
    "break": "#c9a227",
    "closing": "#7c5cbf",
}

_CSS = """
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic",
       system-ui, sans-serif; margin: 24px; color: #1d2530; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.summary { color: #4a5563; margin-bottom: 14px; }
.timeline { background: #fff; border: 1px solid #dde2e8; border-radius: 8px; }
svg text { font-family: inherit; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid #dde2e8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.overran td { background: #fff1f0; } .bad { color: #c62828; font-weight: 600; }
.legend span { display: inline-block; margin-right: 16px; font-size: 13px; }
.sw { display: inline-block; width: 22px; height: 10px; vertical-align: middle;
      margin-right: 5px; border-radius: 2px; }
ul { padding-left: 20px; } li { margin: 2px 0; }
"""


def _tick_step(span_s: float) -> int:
    for step in (60, 300, 600, 900, 1800, 3600, 7200):
        if span_s / step <= 14:
            return step
    return 14400


class _Axis:
    """Show seconds → x."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0 = t0
        self.t1 = max(t1, t0 + 60)

    def x(self, t: float) -> float:
        inner = WIDTH - LABEL_W - RIGHT
        return LABEL_W + (t - self.t0) / (self.t1 - self.t0) * inner


def _bounds(report: Report) -> tuple[float, float]:
    times = [ln.slot.start for ln in report.lines] + [ln.slot.end for ln in report.lines]
    times += [t for ln in report.lines for t in (ln.start, ln.end) if t is not None]
    for span in (report.on_air, report.recording):
        if span is not None:
            times += [t for t in span if t is not None]
    return min(times), max(times)


def _rect(
    x: float, y: float, w: float, h: float, fill: str, cls: str, tip: str, **extra: str
) -> str:
    attrs = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in extra.items())
    return (
        f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" '
        f'height="{h:.1f}" rx="2" fill="{fill}"{attrs}><title>{escape(tip)}</title></rect>'
    )


def _axis(report: Report, axis: _Axis, height: float) -> list[str]:
    out = []
    step = _tick_step(axis.t1 - axis.t0)
    run = report.run
    # Ticks on round wall-clock minutes.
    first = run.wall(axis.t0)
    offset = (first.minute * 60 + first.second) % step
    t = axis.t0 - offset + (step if offset else 0)
    while t <= axis.t1:
        x = axis.x(t)
        out.append(
            f'<line x1="{x:.1f}" y1="22" x2="{x:.1f}" y2="{height - 6:.1f}" stroke="#e6e9ee"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="16" font-size="12" text-anchor="middle" fill="#5b6573">'
            f"{run.wall(t):%H:%M}</text>"
        )
        t += step
    return out


def _bands(report: Report, axis: _Axis, end: float) -> list[str]:
    out = []
    for n, (span, label, colour) in enumerate(
        ((report.on_air, "ON AIR", "#d93025"), (report.recording, "REC", "#8e24aa"))
    ):
        if span is None:
            continue
        begin, stop = span[0], span[1] if span[1] is not None else end
        y = 26 + n * 13
        tip = f"{label}: {clock(report.run, begin)}–{clock(report.run, stop)}"
        out.append(_rect(axis.x(begin), y, axis.x(stop) - axis.x(begin), 9, colour, "band", tip))
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y + 8}" font-size="10" text-anchor="end" '
            f'fill="{colour}" font-weight="700">{label}</text>'
        )
    return out


def _markers(report: Report, axis: _Axis, height: float) -> list[str]:
    out = []
    # Warnings first, so a problem's marker is drawn over a warning's at the same moment.
    items = [(s, "warning", "#e8a317") for s in report.warnings]
    items += [(s, "problem", "#c62828") for s in report.problems]
    for said, level, colour in items:
        x = axis.x(min(max(said.at, axis.t0), axis.t1))
        tip = f"{clock(report.run, said.at)} {level}: {said.text}"
        out.append(
            f'<g class="marker {level}"><title>{escape(tip)}</title>'
            f'<line x1="{x:.1f}" y1="58" x2="{x:.1f}" y2="{height - 6:.1f}" stroke="{colour}" '
            f'stroke-width="1.2" stroke-dasharray="3 3" opacity="0.75"/>'
            f'<path d="M{x - 6:.1f},52 L{x + 6:.1f},52 L{x:.1f},62 Z" fill="{colour}"/></g>'
        )
    return out


def _row(report: Report, axis: _Axis, i: int) -> list[str]:
    ln = report.lines[i]
    s = ln.slot
    run = report.run
    y = TOP + i * ROW_H
    out = []
    if i % 2:
        out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW_H}" fill="#f6f8fa"/>')
    title = s.title if len(s.title) <= 30 else s.title[:29] + "…"
    who = f" · {s.names}" if s.names else ""
    colour = _KIND_COLOURS.get(s.kind, "#6b7785")
    out.append(
        f'<text x="10" y="{y + 15}" font-size="13" fill="#1d2530">'
        f'<tspan font-weight="600">{s.index + 1}. {escape(title)}</tspan></text>'
        f'<text x="10" y="{y + 29}" font-size="11" fill="#5b6573">'
        f"{escape(kind_label(s.kind, run.language) + who)}</text>"
    )
    plan_tip = f"planned {clock(run, s.start)}–{clock(run, s.end)} ({length(ln.planned_s)})"
    out.append(
        _rect(
            axis.x(s.start),
            y + 5,
            axis.x(s.end) - axis.x(s.start),
            8,
            "#c3cad3",
            "bar-planned",
            f"{s.title}: {plan_tip}",
            data_slot=str(s.index),
        )
    )
    if ln.start is None:
        label = "skipped" if ln.skipped else "passed over" if ln.passed else "not reached"
        out.append(
            f'<text x="{axis.x(s.start) + 4:.1f}" y="{y + 27}" font-size="11" fill="#8a94a1" '
            f'font-style="italic">{label}</text>'
        )
        return out
    end = ln.end if ln.end is not None else report.end
    tip = (
        f"{s.title}: actual {clock(run, ln.start)}–{clock(run, ln.end)} ({length(ln.actual_s)}), "
        f"delay {signed(ln.delay_s)}; {plan_tip}"
    )
    x0, x1 = axis.x(ln.start), axis.x(end)
    out.append(_rect(x0, y + 16, x1 - x0, 13, colour, "bar-actual", tip, data_slot=str(s.index)))
    if ln.overran:
        x_plan_end = axis.x(ln.start + ln.planned_s)
        out.append(
            _rect(
                x_plan_end,
                y + 16,
                x1 - x_plan_end,
                13,
                "#d93025",
                "overrun",
                f"{s.title}: {signed(ln.over_s)} over its planned length",
                data_slot=str(s.index),
            )
        )
        out.append(
            f'<text x="{x1 + 4:.1f}" y="{y + 27}" font-size="11" fill="#c62828" '
            f'font-weight="700">{signed(ln.over_s)}</text>'
        )
    return out


def timeline_svg(report: Report) -> str:
    """The evening as an SVG picture (see the module docstring)."""
    t0, t1 = _bounds(report)
    axis = _Axis(t0 - 60, t1 + 120)
    height = TOP + len(report.lines) * ROW_H + 10
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="timeline: planned and actual slots">'
    ]
    parts += _axis(report, axis, height)
    parts += _bands(report, axis, t1)
    for i in range(len(report.lines)):
        parts += _row(report, axis, i)
    parts += _markers(report, axis, height)
    parts.append("</svg>")
    return "\n".join(parts)


def _list(report: Report, items: list[Said], empty: str) -> str:
    if not items:
        return f"<p>{escape(empty)}</p>"
    rows = "".join(f"<li>{clock(report.run, s.at)} {escape(s.text)}</li>" for s in items)
    return f"<ul>{rows}</ul>"


def _slot_table(report: Report) -> str:
    run = report.run
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "slot", "speakers", "planned", "actual", "delay", "plan", "actual", "over")
    )
    rows = []
    for ln in report.lines:
        s = ln.slot
        actual = (
            "skipped"
            if ln.skipped
            else "passed over (never on air)"
            if ln.passed
            else "not reached"
            if ln.start is None
            else f"{clock(run, ln.start)}–{clock(run, ln.end)}"
        )
        over = f'<span class="bad">{signed(ln.over_s)}</span>' if ln.overran else signed(ln.over_s)
        rows.append(
            f'<tr class="{"overran" if ln.overran else ""}"><td class="num">{s.index + 1}</td>'
            f"<td>{escape(s.title)}</td><td>{escape(s.names)}</td>"
            f"<td>{clock(run, s.start)}–{clock(run, s.end)}</td><td>{actual}</td>"
            f'<td class="num">{signed(ln.delay_s)}</td><td class="num">{length(ln.planned_s)}</td>'
            f'<td class="num">{length(ln.actual_s)}</td><td class="num">{over}</td></tr>'
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _checks_table(report: Report) -> str:
    if not report.checks:
        return "<p>No speaker checks in this run.</p>"
    rows = "".join(
        f"<tr><td>{escape(str(c.get('name')))}</td><td>{escape(str(c.get('part')))}</td>"
        f'<td class="{"bad" if c.get("verdict") == "fail" else ""}">'
        f"{escape(str(c.get('verdict')))}</td><td>{escape(str(c.get('value', '')))}</td>"
        f"<td>{escape(str(c.get('hint', '')))}</td><td>{clock(report.run, c.get('at_s'))}</td></tr>"
        for c in report.checks
    )
    names = ("speaker", "part", "verdict", "value", "hint", "at")
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    return (
        f"<table>{head}{rows}</table><p>{plural(report.failed_checks, 'failed check')} in all.</p>"
    )


def _legend() -> str:
    items = [
        ("#c3cad3", "planned"),
        ("#2f6fdf", "actual (colour: kind)"),
        ("#d93025", "over the planned length / on air"),
        ("#8e24aa", "recording"),
    ]
    spans = "".join(f'<span><i class="sw" style="background:{c}"></i>{t}</span>' for c, t in items)
    spans += (
        '<span>▼ <b style="color:#c62828">problem</b> / <b style="color:#e8a317">warning</b></span>'
    )
    return f'<p class="legend">{spans}</p>'


def html_page(report: Report) -> str:
    """The whole report as one HTML page."""
    run = report.run
    facts = sorted(report.stream + report.record, key=lambda s: s.at)
    files = "".join(f"<li>{escape(f)}</li>" for f in report.files)
    lang = "ja" if run.language == "ja" else "en"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(run.heading)} — report</title><style>{_CSS}</style></head>
<body>
<h1>{escape(run.heading)}</h1>
<div class="summary">{escape(run_summary(report))}</div>
{_legend()}
{timeline_svg(report)}
<h2>Planned vs actual</h2>
{_slot_table(report)}
<h2>Problems ({len(report.problems)})</h2>
{_list(report, report.problems, "None.")}
<h2>Warnings ({len(report.warnings)})</h2>
{_list(report, report.warnings, "None.")}
<h2>Speaker checks</h2>
{_checks_table(report)}
<h2>Stream and recording</h2>
{_list(report, facts, "Neither stream nor recording in this run.")}
{f"<p>Recording files:</p><ul>{files}</ul>" if files else ""}
<h2>Host commands ({len(report.commands)})</h2>
{_list(report, report.commands, "None.")}
</body></html>
"""


def render(run: Run, fmt: str) -> str:
    """The report of `run` as `md`, `csv` or `html`."""
    report = build(run)
    if fmt == "md":
        return markdown(report)
    if fmt == "csv":
        return csv_text(report)
    if fmt == "html":
        return html_page(report)
    raise UsageError(f"unknown report format {fmt!r}", hint="use md, csv or html")


__all__ = ["html_page", "render", "timeline_svg"]
