"""The tables of the event file as pydantic models, and the value types they use.

Durations ("20m") and clock times ("19:30") are parsed here, as people write them; the
field names are a contract the rest of showcaller codes against.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
import typing
import unicodedata
from collections.abc import Callable
from datetime import time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PlainSerializer,
    SecretStr,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from showcaller.config.templates import TemplateText

SlotKind = Literal["standby", "opening", "talk", "lt", "qa", "break", "closing"]
# Every slot kind, in the order a show runs them: the one list (the timetable, importers
# and policies read it).
SLOT_KINDS: tuple[SlotKind, ...] = typing.get_args(SlotKind)
# How a slot ends: on time, when the host says, or after a grace (`end = N` seconds).
EndMode = Literal["auto", "manual", "grace"]
END_MODES: tuple[EndMode, ...] = typing.get_args(EndMode)

# ---------------------------------------------------------------------------------------
# Value types: durations and clock times as people write them in the TOML file.

_DURATION = re.compile(r"(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")
_DURATION_PATTERN = r"^(\d+h)?\s*(\d+m)?\s*(\d+s)?$"
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_CLOCK_PATTERN = r"^\d{1,2}:\d{2}(:\d{2})?$"


def parse_duration(text: str) -> timedelta:
    """`"20m"`, `"90s"`, `"1h10m"` → a timedelta; ValueError for anything else.

    OverflowError for a duration too long for a timedelta (about 2.7 million years).
    """
    match = _DURATION.fullmatch(text.strip()) if text.isascii() else None
    if not match or not any(match.groups()):
        raise ValueError(f"bad duration {text!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """A timedelta → the shortest `1h10m30s` form (`"0s"` for zero)."""
    total = int(value.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    text += f"{seconds}s" if seconds or not text else ""
    return text


def _to_duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "duration_unit", 'a duration needs a unit: write "20m", "90s" or "1h10m"'
        )
    if not isinstance(value, str):
        raise PydanticCustomError("duration_type", 'expected a duration like "20m" or "1h10m"')
    try:
        return parse_duration(value)
    except OverflowError:
        raise PydanticCustomError(
            "duration_range", "duration {value} is too long", {"value": repr(value)}
        ) from None
    except ValueError:
        raise PydanticCustomError(
            "duration_format",
            'bad duration {value}: expected a duration like "20m", "90s" or "1h10m"',
            {"value": repr(value), "hint": _full_width_hint(value, parse_duration)},
        ) from None


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise PydanticCustomError("duration_positive", "a duration must be longer than 0")
    return value


def _half_width(value: object) -> str | None:
    """`value` in half-width characters, when it is a string a Japanese IME typed in
    full-width ones ("１９：３０", "２０ｍ"); None otherwise."""
    if not isinstance(value, str):
        return None
    folded = unicodedata.normalize("NFKC", value).strip()
    return folded if folded != value.strip() and folded.isascii() else None


def _full_width_hint(value: object, parse: Callable[[str], object]) -> str:
    """The exact text to write instead, when `value` only differs by full-width characters.

    Refused rather than read: the file would then say one thing to showcaller and another
    to every other TOML tool (the editor's schema check underlines it), and the hint makes
    the fix one keystroke.
    """
    folded = _half_width(value)
    if folded is None:
        return ""
    try:
        parse(folded)
    except (ValueError, OverflowError):
        return ""
    return f"full-width characters from a Japanese input method: write {folded!r}"


def _clock_of(text: str) -> time:
    match = _CLOCK.fullmatch(text.strip())
    if match:
        hour, minute, second = (int(g or 0) for g in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise ValueError(f"bad time {text!r}")


def _to_clock(value: object) -> object:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and value.isascii():
        with contextlib.suppress(ValueError):
            return _clock_of(value)
    raise PydanticCustomError(
        "clock_time",
        "bad time {value}: expected HH:MM or HH:MM:SS",
        {"value": repr(value), "hint": _full_width_hint(value, _clock_of)},
    )


def format_clock(value: time) -> str:
    """A clock time → `"HH:MM"`, or `"HH:MM:SS"` when it has seconds."""
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


_DURATION_JSON = PlainSerializer(format_duration, return_type=str, when_used="json")
_DURATION_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": _DURATION_PATTERN, "examples": ["20m", "90s", "1h10m"]}
)
Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    AfterValidator(_positive),
    _DURATION_JSON,
    _DURATION_SCHEMA,
]
"""A length of time written "20m", "90s" or "1h10m"; longer than 0."""
MinDuration = Annotated[timedelta, BeforeValidator(_to_duration), _DURATION_JSON, _DURATION_SCHEMA]
"""Like Duration, but 0 is allowed (a break that may be squeezed away)."""
ClockTime = Annotated[
    time,
    BeforeValidator(_to_clock),
    PlainSerializer(format_clock, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _CLOCK_PATTERN, "examples": ["19:30"]}),
]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Webhook URLs carry their own secret, so the value is never echoed.
        raise PydanticCustomError("webhook_url", "expected an http:// or https:// URL")
    return value


# ---------------------------------------------------------------------------------------
# The sections of the file. Field names are a contract the rest of showcaller codes against.


class _Section(BaseModel):
    """Shared settings of every table: unknown keys are errors, values never change."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


class Event(_Section):
    """[event]: what the meetup is and when it happens."""

    title: str
    """The meetup's name, shown on the countdown page and in reports."""
    date: dt.date
    """The day of the show (a TOML date: 2026-12-10)."""
    timezone: str = "Asia/Tokyo"
    """IANA time zone of the times in the timetable."""
    hashtag: str = ""
    """Shown in the lower third and the reminders, e.g. "#mlct"."""
    url: str = ""
    """The event page."""
    language: Literal["ja", "en"] = "ja"
    """Language of default titles and of the speaker pages."""
    crosses_midnight: bool = False
    """Set when a slot starts after midnight, so an earlier clock time means the next day."""
    survey_url: str = ""
    """The survey the MC asks viewers to fill in at the closing (docs/cards.md)."""
    next_event: str = ""
    """The next event, e.g. "1月14日（木）の #21": on the closing scene (the scene templates)
    and in the MC's closing card."""
    room: str = ""
    """The room's name when one showcaller runs several rooms (default: the file's stem):
    lower-case letters, digits, - and _, as it appears in URLs and metrics."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, available_timezones(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "use an IANA name like Asia/Tokyo"
            raise PydanticCustomError(
                "timezone", "unknown time zone {value}", {"value": repr(value), "hint": hint}
            ) from None
        return value

    @field_validator("room")
    @classmethod
    def _room_name(cls, value: str) -> str:
        if value and not ROOM_NAME.fullmatch(value):
            raise PydanticCustomError(
                "room",
                "not a room name",
                {"hint": "lower-case letters, digits, - and _ (it goes into URLs), e.g. hall-b"},
            )
        return value


# A room's name: it is part of URLs (/rooms/<room>/timer) and of metric labels.
ROOM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

OBS_URL_HINT = (
    "OBS's own server is ws://127.0.0.1:4455, see OBS > Tools > WebSocket Server Settings"
)


class OBS(_Section):
    """[obs]: how to reach OBS Studio's WebSocket server."""

    url: str = "sim"
    """Either sim (the built-in simulated OBS) or ws://host:port (OBS listens on 4455)."""
    password: SecretStr = SecretStr("")
    """Better set in SHOWCALLER_OBS__PASSWORD than written here."""
    password_env: str = ""
    """The environment variable that holds this OBS's password, e.g. ROOM_B_OBS_PASSWORD
    (one per room when one showcaller runs several; docs/rooms.md)."""
    connect_timeout: float = Field(5.0, gt=0)
    """Seconds to wait for OBS to answer a connection."""
    request_timeout: float = Field(5.0, gt=0)
    """Seconds to wait for OBS to answer one request."""
    transition: str = "Fade"
    """The OBS transition used for scene switches."""
    transition_ms: int = Field(300, ge=0)
    """Length of the transition in milliseconds."""

    @field_validator("url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if value == "sim":
            return value
        parts = urlsplit(value)
        try:
            ok = parts.scheme in ("ws", "wss") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port that is not a number
            ok = False
        if not ok:
            raise PydanticCustomError(
                "obs_url",
                'expected "sim" or ws://host:port',
                {"hint": OBS_URL_HINT},
            )
        return value

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not _ENV_NAME.fullmatch(value):
            raise PydanticCustomError(
                "password_env",
                "not the name of an environment variable",
                {"hint": "the variable's name, e.g. ROOM_B_OBS_PASSWORD, never the password"},
            )
        return value


class Scenes(_Section):
    """[scenes]: the OBS scene for each role a slot can play."""

    standby: str | None = None
    """Before the show starts."""
    opening: str | None = None
    """The opening."""
    talk: str | None = None
    """A talk."""
    lt: str | None = None
    """A lightning talk."""
    break_: str | None = Field(None, alias="break")
    """A break."""
    qa: str | None = None
    """Questions and answers."""
    closing: str | None = None
    """The closing."""
    trouble: str | None = None
    """Shown when something goes wrong ("please stand by")."""

    def scene_for(self, role: str) -> str | None:
        """The scene named for `role` (a slot kind, or "trouble"); None if none is set."""
        value = self.break_ if role == "break" else getattr(self, role, None)
        return value if isinstance(value, str) else None


class LowerThird(_Section):
    """[lower_third]: OBS text inputs updated on every cue."""

    speaker_input: str | None = None
    """Text input that shows the speaker's name."""
    title_input: str | None = None
    """Text input that shows the slot's title."""
    hashtag_input: str | None = None
    """Text input that shows the event's hashtag."""


class Stream(_Section):
    """[stream]: going on air (live mode)."""

    start_before_standby: MinDuration = timedelta(minutes=5)
    """How long before the first slot the stream starts."""
    stop_at_end: bool = True
    """Stop the stream (and recording) when the last slot ends; false leaves it to the host."""
    restart_after_crash: bool = True
    """When OBS crashed on air and comes back inside the show, start the stream again."""


class Record(_Section):
    """[record]: recording."""

    enabled: bool = True
    """Record the show."""
    per_talk: Literal["split", "chapter", "restart", "off"] = "split"
    """One file per slot ("split": SplitRecordFile, or chapters where OBS supports it)."""


class Connpass(_Section):
    """[connpass]: the event's connpass page, for `showcaller import --connpass`."""

    event_id: int | None = Field(None, ge=1)
    """The number in the event's address (https://….connpass.com/event/N/)."""
    api_key: SecretStr = SecretStr("")
    """The connpass API key; better set in SHOWCALLER_CONNPASS__API_KEY."""
    url: str = "https://connpass.com/api/v2/"
    """The API's address (a local test double in tests)."""


class Rehearsal(_Section):
    """[rehearsal]: the run-through the day before."""

    speed: float = Field(1.0, gt=0)
    """Run the timetable this many times faster than real time."""
    stream_test_server: str = ""
    """A private RTMP server for --stream-test (never the real channel)."""
    stream_test_key: SecretStr = SecretStr("")
    """Its stream key; better set in SHOWCALLER_REHEARSAL__STREAM_TEST_KEY."""


def _end_value(value: object) -> object:
    if value in ("auto", "manual") or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ):
        return value
    raise PydanticCustomError(
        "slot_end", 'expected "auto", "manual" or a number of seconds of grace (e.g. 60)'
    )


class Slot(_Section):
    """[[timetable.slots]]: one part of the show."""

    kind: SlotKind
    """What happens: standby, opening, talk, lt, qa, break or closing."""
    title: str | None = None
    """The title; by default the kind's name in event.language."""
    speakers: list[str] = Field(default_factory=list)
    """Ids of the [[speakers]] on stage."""
    start: ClockTime | None = None
    """Clock time HH:MM or HH:MM:SS (event time zone); by default the previous slot's end."""
    duration: Duration | None = None
    """How long, e.g. "20m"; by default until the next slot's start (the last slot needs one)."""
    scene: str | None = None
    """The OBS scene, instead of the one [scenes] names for this kind."""
    end: Annotated[Literal["auto", "manual"] | NonNegativeInt, BeforeValidator(_end_value)] = "auto"
    """At the end: auto moves on, manual waits for the host, N warns, waits N s, then moves on."""
    min: MinDuration | None = None
    """For break and qa: the shortest it may be squeezed to when the show runs late."""
    intro: TemplateText | None = None
    """What the MC says as this slot starts, instead of the [cards] template (docs/cards.md)."""
    outro: TemplateText | None = None
    """What the MC says as this slot ends, instead of the [cards] template."""
    post: TemplateText | None = None
    """The post draft for this slot's start, instead of the [posts] template."""
    do_not_record: bool = False
    """The speaker asked not to be recorded: the recording pauses while this slot is on air."""


class Timetable(_Section):
    """[timetable]: the slots, in order."""

    break_min: MinDuration = timedelta(minutes=5)
    """The shortest a break may be squeezed to, to absorb delay."""
    qa_min: MinDuration = timedelta(minutes=2)
    """The shortest a Q&A may be squeezed to."""
    slots: list[Slot] = Field(default_factory=list)
    """The parts of the show, in time order."""


class Speaker(_Section):
    """[[speakers]]: one person on stage."""

    id: str = Field(min_length=1)
    """Short unique id that slots refer to."""
    name: str
    """The name shown in the lower third."""
    handle: str = ""
    """Social media handle, e.g. "@hanako"."""
    affiliation: str = ""
    """Company or community."""
    video_input: str | None = None
    """The OBS input carrying this speaker's picture (checked before the show)."""
    audio_input: str | None = None
    """The OBS input carrying this speaker's sound (checked before the show)."""
    slides: str = ""
    """Link to the slides, for the report."""


class Checks(_Section):
    """[checks]: thresholds of the speaker connection checks."""

    black_threshold: float = Field(0.03, ge=0, le=1)
    """A picture darker than this (0..1 mean brightness) counts as black."""
    frozen_seconds: float = Field(3.0, gt=0)
    """A picture unchanged this long counts as frozen."""
    silence_db: float = Field(-50.0, le=0)
    """Sound quieter than this (dBFS) counts as silence."""
    window_seconds: float = Field(5.0, gt=0)
    """How long each check watches."""
    clipping_db: float = Field(-1.0, le=0)
    """Peaks at or above this (dBFS) count as clipping."""
    before: Duration = timedelta(minutes=30)
    """In live, every speaker is checked this long before the first slot."""
    next_speaker_before: Duration = timedelta(minutes=5)
    """In live, the next slot's speakers are checked again this long before it starts."""
    on_air: bool = True
    """Watch the speaker on air: a black or frozen picture, or silence, is said at once."""
    on_air_silence: float = Field(20.0, gt=0)
    """On air, sound silent this many seconds is a loud warning."""
    slides: bool = False
    """Also check that slide links answer (needs the internet; off: most come after the talk)."""
    slides_timeout: float = Field(5.0, gt=0)
    """How long a slide link may take to answer."""


class SimFeed(_Section):
    """[[sim.feeds]]: what one speaker's feed does in the built-in simulated OBS."""

    speaker: str = Field(min_length=1)
    """The speaker's id."""
    video: Literal["live", "black", "frozen", "offline"] | None = None
    """The picture: live (default), black, frozen or offline."""
    audio: Literal["speaking", "silent", "muted", "clipping"] | None = None
    """The sound: speaking (default), silent, muted (in OBS) or clipping."""
    at: MinDuration | None = None
    """When, into the speaker's first slot, the feed changes; not set: from the start."""


class Sim(_Section):
    """[sim]: the built-in simulated OBS (`--obs sim`) only; a real OBS ignores it."""

    feeds: list[SimFeed] = Field(default_factory=list)
    """Speakers whose feed is not a live picture with sound, to rehearse what a host sees."""


class Web(_Section):
    """[web]: the countdown and host pages."""

    host: str = "127.0.0.1"
    """Address to listen on (0.0.0.0 to reach it from other machines)."""
    port: int = Field(8080, ge=1, le=65535)
    """Port to listen on."""
    token: SecretStr = SecretStr("")
    """Token the host page asks for; better set in SHOWCALLER_WEB__TOKEN."""


NotifyTopic = Literal["next_speaker", "check", "stream", "host", "health", "cue", "end"]
# What a webhook gets when its `events` are not given: what speakers and helpers act on.
DEFAULT_NOTIFY_EVENTS: tuple[NotifyTopic, ...] = (
    "next_speaker",
    "check",
    "stream",
    "host",
    "health",
)


def _webhook_entry(value: object) -> object:
    # A bare URL (the old `webhooks = ["https://..."]` form) is a webhook with defaults.
    return {"url": value} if isinstance(value, str | SecretStr) else value


def _secret_http_url(value: SecretStr) -> SecretStr:
    _http_url(value.get_secret_value())
    return value


class Webhook(_Section):
    """[[notify.webhooks]]: one Discord or Slack incoming webhook."""

    url: Annotated[SecretStr, AfterValidator(_secret_http_url)]
    """The webhook's URL (a secret: better in SHOWCALLER_NOTIFY__WEBHOOKS)."""
    format: Literal["auto", "discord", "slack"] = "auto"
    """The payload: auto (by the URL's host: discord.com → discord, else slack), discord, slack."""
    events: list[NotifyTopic] = Field(default_factory=lambda: list(DEFAULT_NOTIFY_EVENTS))
    """What it gets: next_speaker, check, stream, host, health (default), and cue, end."""


class Notify(_Section):
    """[notify]: where reminders and show notices go (see docs/notify.md)."""

    webhooks: list[Annotated[Webhook, BeforeValidator(_webhook_entry)]] = Field(
        default_factory=list
    )
    """Discord/Slack webhooks: URLs, or tables with url, format and events."""
    next_speaker_before: Duration = timedelta(minutes=5)
    """The next speaker is asked to join the call this long before their slot."""
    timeout: float = Field(5.0, gt=0)
    """Seconds one webhook request may take."""
    retries: int = Field(3, ge=0, le=10)
    """How many times a failed request is tried again (with backoff)."""


class Health(_Section):
    """[health]: stream health in live and `rehearse --stream-test` (docs/health.md)."""

    enabled: bool = True
    """Watch the stream's health (GetStreamStatus and GetStats about once a second)."""
    poll_seconds: float = Field(1.0, ge=0.2, le=10)
    """How often OBS is asked (real seconds)."""
    window_seconds: float = Field(10.0, ge=2, le=300)
    """Dropped and skipped frames are counted over this window."""
    zero_bitrate_seconds: float = Field(2.0, gt=0, le=60)
    """On air but nothing sent this long: a warning."""
    dropped_percent: float = Field(1.0, gt=0, le=100)
    """Frames dropped on the network (of the frames in the window) that make a warning."""
    skipped_percent: float = Field(2.0, gt=0, le=100)
    """Frames the encoder or renderer skipped (of the frames in the window) that warn."""
    min_frames: int = Field(10, ge=1)
    """Fewer dropped or skipped frames than this in the window never warn (a hiccup)."""
    disk_reserve_mb: float = Field(500.0, ge=0)
    """Warn when the recording would leave less free disk than this before the show ends."""
    fine_seconds: float = Field(5.0, ge=0, le=120)
    """A warning is over (said once) when its cause has been gone this long."""


class Sponsor(_Section):
    """[[sponsors]]: who supports the event (thanked on the MC's cue cards)."""

    name: str = Field(min_length=1)
    """The name as the MC says it, e.g. "株式会社Example"."""


class CardText(_Section):
    """[cards.<kind>]: what the MC says for every slot of one kind."""

    intro: TemplateText | None = None
    """Said as the slot starts; not set: the built-in text in event.language."""
    outro: TemplateText | None = None
    """Said as the slot ends; not set: the built-in text."""


class Cards(_Section):
    """[cards]: the MC's cue cards, one template pair per slot kind (docs/cards.md)."""

    standby: CardText = Field(default_factory=CardText)
    """Before the show."""
    opening: CardText = Field(default_factory=CardText)
    """The opening: welcome, hashtag, sponsors."""
    talk: CardText = Field(default_factory=CardText)
    """A talk: the speaker's introduction, and thanks."""
    lt: CardText = Field(default_factory=CardText)
    """A lightning talk."""
    qa: CardText = Field(default_factory=CardText)
    """Questions and answers: how to ask."""
    break_: CardText = Field(default_factory=CardText, alias="break")
    """A break: when the show resumes."""
    closing: CardText = Field(default_factory=CardText)
    """The closing: thanks, survey, next event."""

    def for_kind(self, kind: str) -> CardText:
        """The templates of one slot kind."""
        value = self.break_ if kind == "break" else getattr(self, kind, None)
        return value if isinstance(value, CardText) else CardText()


class Posts(_Section):
    """[posts]: drafts for the live-tweeting host, at the start of each talk (docs/cards.md)."""

    talk: TemplateText | None = None
    """The draft for a talk; not set: the built-in text in event.language."""
    lt: TemplateText | None = None
    """The draft for a lightning talk."""
