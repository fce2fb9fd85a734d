"""The show's vocabulary: what it publishes and reports. The state the surfaces read
(`SessionState`: the show's own state plus the views attachments publish: speaker checks,
stream health, notifications, outputs, cue cards), its marks and messages, the report
of a run and the answer to a command. Plain data; the engine and the attachments fill it in."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

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
    # Looked at again after a restart even if done before (the stream: on air or not now?).
    again_after_restart: bool = False


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
    "health" (stream health), "host" (the host's own message), "cue", "end", "obs"
    (OBS stopped answering, answers again).
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
class ResumedView:
    """A show that showcaller picked up again after a restart (a crash, a kill)."""

    slot: int | None  # index of the slot on air when it resumed (None: before the first)
    away_s: float  # show seconds between the journal's last sign of life and the resume
    at: str  # wall-clock ISO time of the resume


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
    message_slot: int | None = None  # the slot the message belongs to (cleared after it)
    message_pinned: bool = False  # the host pinned it: it stays across slot changes
    resumed: ResumedView | None = None  # this run picked the show up after a restart


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
    passed: list[int] = field(default_factory=list)  # slots passed over (never on air)

    @property
    def ok(self) -> bool:
        """True when nothing would have gone wrong live."""
        return not self.problems


@dataclass(frozen=True)
class CommandResult:
    """The answer to a host command."""

    ok: bool
    message: str


# ------------------------------------------------------------------ modes


class Mode(enum.Enum):
    """What the show may do to OBS."""

    REHEARSAL = "rehearsal"
    LIVE = "live"


class Phase(enum.Enum):
    """Where the show stands, for the surfaces."""

    WAITING = "waiting"  # before the first slot
    ON_AIR = "on_air"
    ENDED = "ended"
    DETACHED = "detached"  # showcaller let go; OBS keeps running as it is


# ------------------------------------------------- the views of the session state


Part = Literal["video", "audio", "slides"]
Verdict = Literal["pass", "warn", "fail", "not checked", "checking"]


@dataclass(frozen=True)
class CheckResult:
    """One part (video, audio, slides) of one speaker's check.

    `value` is what was measured ("luma 3/255", "peak -62 dBFS", "unchanged for 8 s");
    `hint` says in plain words, in the event's language, what to do about a failure.
    """

    speaker: str  # the speaker's id
    name: str  # the speaker's name, as the lower third shows it
    part: Part
    verdict: Verdict
    value: str = ""
    hint: str = ""
    at: str = ""  # wall-clock ISO time of the measurement

    @property
    def failed(self) -> bool:
        """A failure (a warning is not one)."""
        return self.verdict == "fail"


@dataclass(frozen=True)
class HealthView:
    """Stream health as the surfaces show it (`SessionState.health`)."""

    status: str  # ok | warning | off air
    active: bool
    reconnecting: bool
    congestion: float
    bitrate_kbps: float | None  # None until two readings
    dropped_frames: int  # on the network, in the window
    dropped_percent: float
    skipped_frames: int  # by the encoder and renderer, in the window
    skipped_percent: float
    render_ms: float
    cpu_percent: float
    disk_free_mb: float | None
    disk_left_min: float | None  # minutes of recording the free disk holds (recording only)
    show_left_min: float | None
    warnings: tuple[str, ...]  # the episodes going on: zero_bitrate, reconnecting, ...
    window_s: float


@dataclass(frozen=True)
class Post:
    """A ready-to-post text, its weighted length and the share link."""

    text: str
    weight: int
    intent_url: str


@dataclass(frozen=True)
class Card:
    """One slot's cue card: what to say as it starts and ends, and the post to send."""

    index: int  # 0-based, as in SlotView
    kind: str
    title: str
    start: str  # HH:MM (expected on air, planned in `showcaller cards`)
    intro: str  # lines to say as the slot starts ("" for nothing)
    outro: str  # lines to say as it ends
    post: Post | None  # the draft for a talk or LT start (or a slot with its own post)


@dataclass(frozen=True)
class CardsView:
    """The cards the host needs now: the slot on air's and the next slot's."""

    on_air: Card | None
    next: Card | None


@dataclass(frozen=True)
class OutputView:
    """Stream or recording as the surfaces show it."""

    active: bool
    reconnecting: bool = False
    paused: bool = False
    duration_s: float = 0.0
    bytes: int = 0
    file: str | None = None  # the recording's current file


@dataclass(frozen=True)
class NotifyView:
    """The notification webhooks as the surfaces show them (never their URLs)."""

    webhooks: int  # how many are configured
    sent: int = 0  # messages delivered
    failed: int = 0  # messages given up on after the retries
    retries: int = 0  # requests tried again (a timeout, a 5xx, a 429)
    dropped: int = 0  # messages dropped unsent because the queue was full
    pending: int = 0  # messages waiting to be sent
    last_error: str | None = None  # "webhook 2 (slack): HTTP 500", without the URL
    last_error_at: str | None = None  # wall-clock ISO time


@dataclass(frozen=True)
class SessionState:
    """The one published state of a running show (served as JSON by the web API)."""

    version: int
    show: ShowState
    link: str  # LinkState value: connecting, identifying, ready, backing off, ...
    stream: OutputView | None  # None until OBS has been asked
    record: OutputView | None
    checks: tuple[CheckResult, ...]  # speaker check results, newest per speaker and part
    messages: tuple[ShowMessage, ...]  # every message so far, numbered (seq)
    health: HealthView | None = None  # stream health (live, stream test); None: not watched
    cards: CardsView | None = None  # the MC's cue cards: the slot on air's and the next's
    notify: NotifyView | None = None  # the notification webhooks; None without any

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON values."""
        return dataclasses.asdict(self)


class Views(TypedDict, total=False):
    """The parts of the session state that attachments publish (`publish(**parts)`).

    Adding a view is one field here and one in `SessionState`, and one producer that
    calls `publish(name=view)`; the session and the surfaces' plumbing stay as they are.
    """

    stream: OutputView | None
    record: OutputView | None
    checks: tuple[CheckResult, ...]
    health: HealthView | None
    notify: NotifyView | None


__all__ = [
    "Card",
    "CardsView",
    "CheckResult",
    "CommandResult",
    "CueRecord",
    "HealthView",
    "Mark",
    "MarkAction",
    "MarkStatus",
    "MarkView",
    "Mode",
    "NotifyView",
    "OutputView",
    "Part",
    "Phase",
    "Post",
    "ResumedView",
    "SessionState",
    "ShowMessage",
    "ShowReport",
    "ShowState",
    "SlotView",
    "Verdict",
    "Views",
]
