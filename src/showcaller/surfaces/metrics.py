"""`/metrics`: every room's numbers in the Prometheus text format (version 0.0.4).

Any monitoring stack reads it (Prometheus, VictoriaMetrics, Grafana Agent, ...): one
scrape per process gives, for each room (label `room`), the cue lateness as a histogram,
the slot on air, the delay, the OBS link, the stream and the recording, the failing
speaker checks and the problems. It is computed at each scrape from what the rooms'
sessions publish (their state and their show's report): nothing is counted twice and a
scrape never waits for a show.

Written by hand, not with prometheus_client: the format is a few lines per metric, every
value is read fresh at scrape time (a custom collector either way), and the tests parse
it with prometheus_client's own parser (docs/rooms.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from showcaller.show.session import ShowSession
from showcaller.show.state import CueRecord


class _Named(Protocol):
    @property
    def name(self) -> str: ...


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Cue lateness buckets, real seconds from the deadline (lead taken into account) to the
# request: the engine's goal is a few ms; a second means the room's process was stuck.
LATENESS_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
_LINK_STATES = ("connecting", "identifying", "ready", "backing off", "auth failed", "stopped")


def cue_lateness_s(cue: CueRecord, speed: float) -> float:
    """Real seconds from the moment the cue was due (its deadline less the lead the engine
    uses to compensate OBS's switch time) to the moment the engine sent it."""
    return (cue.sent - (cue.deadline - cue.lead)) / (speed or 1.0)


@dataclass
class Metrics:
    """The rooms whose numbers `/metrics` serves; a room is added when its session starts."""

    rooms: dict[str, ShowSession] = field(default_factory=dict)

    def add(self, room: str, session: ShowSession) -> None:
        """Serve `session`'s numbers under the label room=`room`."""
        self.rooms[room] = session

    def add_room(self, room: _Named, session: ShowSession) -> None:
        """`add` for a room that has a name (what `rehearse_rooms`' on_session gets)."""
        self.add(room.name, session)

    def exposition(self) -> str:
        """Every room's metrics, in the Prometheus text format."""
        return render(self.rooms.items())


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Family:
    """One metric: its HELP, TYPE and samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name = name
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        body = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        self.lines.append(f"{self.name}{suffix}{{{body}}} {_number(value)}")


def render(rooms: Iterable[tuple[str, ShowSession]]) -> str:
    """The exposition of `rooms` (name, session), one family after another."""
    fams = {
        "info": _Family(
            "showcaller_room_info", "gauge", "The room's show: its title and mode (always 1)."
        ),
        "late": _Family(
            "showcaller_cue_lateness_seconds",
            "histogram",
            "Real seconds from a cue's due moment to its request to OBS.",
        ),
        "slot": _Family(
            "showcaller_current_slot",
            "gauge",
            "The slot on air, numbered from 1 as in `showcaller validate` (0: none).",
        ),
        "delay": _Family(
            "showcaller_delay_seconds", "gauge", "How far the show runs behind its plan."
        ),
        "ended": _Family("showcaller_show_ended", "gauge", "1 once the room's show has ended."),
        "link": _Family("showcaller_obs_link_up", "gauge", "1 while the link to OBS is ready."),
        "state": _Family(
            "showcaller_obs_link_state", "gauge", "The link to OBS: 1 for its current state."
        ),
        "stream": _Family("showcaller_stream_active", "gauge", "1 while OBS streams."),
        "bitrate": _Family(
            "showcaller_stream_bitrate_kbps", "gauge", "The stream's bitrate (health watch)."
        ),
        "dropped": _Family(
            "showcaller_stream_dropped_frames",
            "gauge",
            "Frames dropped on the network in the health window.",
        ),
        "record": _Family("showcaller_recording_active", "gauge", "1 while OBS records."),
        "checks": _Family(
            "showcaller_checks_failing", "gauge", "Speaker checks whose verdict is fail."
        ),
        "problems": _Family(
            "showcaller_problems_total",
            "counter",
            "Problems said so far (each goes in the report).",
        ),
    }
    for room, session in rooms:
        _room(fams, room, session)
    return "\n".join(line for f in fams.values() for line in f.lines) + "\n"


def _room(fams: dict[str, _Family], room: str, session: ShowSession) -> None:
    state = session.state
    show = state.show
    report = session.show.report
    fams["info"].add(1, room=room, title=show.title, mode=show.mode)
    _histogram(fams["late"], [cue_lateness_s(c, report.speed) for c in report.cues], room)
    fams["slot"].add(show.on_air.index + 1 if show.on_air is not None else 0, room=room)
    fams["delay"].add(show.delay_s, room=room)
    fams["ended"].add(1 if report.ended else 0, room=room)
    fams["link"].add(1 if state.link == "ready" else 0, room=room)
    for name in _LINK_STATES:
        fams["state"].add(1 if state.link == name else 0, room=room, state=name)
    fams["stream"].add(1 if state.stream is not None and state.stream.active else 0, room=room)
    health = state.health
    if health is not None and health.bitrate_kbps is not None:
        fams["bitrate"].add(health.bitrate_kbps, room=room)
    if health is not None:
        fams["dropped"].add(health.dropped_frames, room=room)
    fams["record"].add(1 if state.record is not None and state.record.active else 0, room=room)
    fams["checks"].add(sum(c.verdict == "fail" for c in state.checks), room=room)
    fams["problems"].add(len(report.problems), room=room)


def _histogram(family: _Family, values: Sequence[float], room: str) -> None:
    for bound in LATENESS_BUCKETS:
        family.add(sum(v <= bound for v in values), "_bucket", room=room, le=_number(bound))
    family.add(len(values), "_bucket", room=room, le="+Inf")
    family.add(sum(values), "_sum", room=room)
    family.add(len(values), "_count", room=room)


__all__ = ["CONTENT_TYPE", "LATENESS_BUCKETS", "Metrics", "cue_lateness_s", "render"]
