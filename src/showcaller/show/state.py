"""What a show publishes and reports: its state for the surfaces, its marks, its messages,
the report of a run and the answer to a command. Plain data; the engine fills it in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

MarkStatus = Literal["due", "done", "failed", "skipped"]
MarkAction = Callable[[], Awaitable[list[str]]]


@dataclass
class Mark:
    """Something the show does at a moment of its own: the stream's start, the recording's.

    A timed mark (`at`, show seconds) is run by the show's one deadline loop; a mark with
    `at=None` runs when its owner (a mode policy) fires it, e.g. with the opening's cue.
    The action returns warnings; raising OBSError marks it failed. Each mark runs once:
    its outcome is journaled, and a resumed show does not run a done mark again.
    """

    kind: str  # "stream_start", "record_start", ...
    label: str  # what the host reads: "the stream starts"
    action: MarkAction
    at: float | None = None
    status: MarkStatus = "due"
    detail: str = ""


@dataclass(frozen=True)
class MarkView:
    """A mark as the surfaces show it."""

    kind: str
    label: str
    at: str | None  # wall-clock ISO time, None when it goes with a slot
    status: str
    detail: str


@dataclass(frozen=True)
class ShowMessage:
    """One line for the host, numbered so that no surface ever misses one.

    `level`: "cue" (a slot went on air; `slot` says which), "end" (the show ended),
    "info", "warning" or "problem" (something that would spoil the show; the report
    lists these).

    `topic` says what the message is about, so that a listener (notifications, a
    surface) can pick messages without parsing the text: "" (general), "check"
    (speaker checks), "stream" (on air / off air / the stream's state), "record",
    "health" (stream health), "host" (the host's own message), "cue", "end".
    """

    seq: int
    level: str
    text: str
    at: str  # wall-clock ISO time
    slot: int | None = None
    topic: str = ""


@dataclass(frozen=True)
class SlotView:
    """One slot as the surfaces show it (show seconds and wall-clock ISO times)."""

    index: int
    kind: str
    title: str
    speakers: tuple[str, ...]
    scene: str
    planned_start: str
    planned_end: str
    expected_start: str
    expected_end: str
    state: str


@dataclass(frozen=True)
class ShowState:
    """The one published state of a show; surfaces read only this."""

    title: str
    mode: str
    phase: str
    now: str
    on_air: SlotView | None
    next: SlotView | None
    time_left_s: float | None
    warning_s: float | None  # the countdown turns yellow this long before the slot's end
    delay_s: float
    held: bool
    waiting_for_host: bool
    program_scene: str | None
    trouble: bool  # the trouble scene is on air instead of the slot's
    message: str  # the host's line for the speaker timer
    slots: tuple[SlotView, ...]
    marks: tuple[MarkView, ...]
    version: int


@dataclass
class CueRecord:
    """What happened at one cue, for the report."""

    slot_index: int
    title: str
    scene: str
    reason: str
    deadline: float  # show seconds
    sent: float  # show seconds
    landed: float | None = None  # show seconds, when OBS said the scene changed
    lead: float = 0.0
    caught_up: bool = False
    error: str | None = None


@dataclass
class ShowReport:
    """Planned vs actual, warnings and problems of one run."""

    title: str
    mode: str
    speed: float
    cues: list[CueRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ended: bool = False
    health: str = ""  # the stream's health over the run (live, stream test), one line

    @property
    def ok(self) -> bool:
        """True when nothing would have gone wrong live."""
        return not self.problems


@dataclass(frozen=True)
class CommandResult:
    """The answer to a host command."""

    ok: bool
    message: str


__all__ = [
    "CommandResult",
    "CueRecord",
    "Mark",
    "MarkAction",
    "MarkStatus",
    "MarkView",
    "ShowMessage",
    "ShowReport",
    "ShowState",
    "SlotView",
]
