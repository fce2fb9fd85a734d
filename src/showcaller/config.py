"""The event config: one TOML file per event, `SHOWCALLER_*` env overrides, located problems.

`load_config(path)` returns a frozen `EventConfig` or raises `ConfigError` listing every
problem it found, each as `FILE:LINE: field.path: what is wrong (hint)`. Field checks come
from pydantic; the plan checks (times, speakers, scenes) run even when some fields are
wrong, on the parts that are right, so one run shows the whole list.

Secrets (`obs.password`, `web.token`, `rehearsal.stream_test_key`) are `SecretStr`, and no
problem ever quotes an input value that pydantic saw (`hide_input_in_errors`, and messages
are built from the error type, never from `input`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, get_args
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
    PrivateAttr,
    SecretStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from showcaller.errors import ConfigError, ConfigProblem, UsageError
from showcaller.tomlpos import Path as KeyPath
from showcaller.tomlpos import TomlLocator, format_path

__all__ = [
    "KIND_TITLES",
    "OBS",
    "Checks",
    "Event",
    "EventConfig",
    "LowerThird",
    "Notify",
    "Record",
    "Rehearsal",
    "ResolvedSlot",
    "Scenes",
    "Slot",
    "SlotKind",
    "Speaker",
    "Stream",
    "Timetable",
    "Web",
    "format_duration",
    "json_schema",
    "load_config",
    "obs_settings",
    "parse_duration",
]

SlotKind = Literal["standby", "opening", "talk", "lt", "qa", "break", "closing"]
EndMode = Literal["auto", "manual", "grace"]

# The default title of a slot, by event.language; also names the kind in the terminal.
KIND_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "standby": "Standby",
        "opening": "Opening",
        "talk": "Talk",
        "lt": "Lightning Talk",
        "qa": "Q&A",
        "break": "Break",
        "closing": "Closing",
    },
    "ja": {
        "standby": "開始前",
        "opening": "オープニング",
        "talk": "発表",
        "lt": "LT",
        "qa": "質疑応答",
        "break": "休憩",
        "closing": "クロージング",
    },
}

# ---------------------------------------------------------------------------------------
# Value types: durations and clock times as people write them in the TOML file.

_DURATION = re.compile(r"(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")
_DURATION_PATTERN = r"^(\d+h)?\s*(\d+m)?\s*(\d+s)?$"
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_CLOCK_PATTERN = r"^\d{1,2}:\d{2}(:\d{2})?$"


def parse_duration(text: str) -> timedelta:
    """`"20m"`, `"90s"`, `"1h10m"` → a timedelta; ValueError for anything else."""
    match = _DURATION.fullmatch(text.strip())
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
    except ValueError:
        raise PydanticCustomError(
            "duration_format",
            'bad duration {value}: expected a duration like "20m", "90s" or "1h10m"',
            {"value": repr(value)},
        ) from None


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise PydanticCustomError("duration_positive", "a duration must be longer than 0")
    return value


def _to_clock(value: object) -> object:
    if isinstance(value, time):
        return value
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        hour, minute, second = (int(g or 0) for g in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise PydanticCustomError(
        "clock_time",
        "bad time {value}: expected HH:MM or HH:MM:SS",
        {"value": repr(value)},
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


_OBS_URL_HINT = (
    "OBS's own server is ws://127.0.0.1:4455, see OBS > Tools > WebSocket Server Settings"
)


class OBS(_Section):
    """[obs]: how to reach OBS Studio's WebSocket server."""

    url: str = "sim"
    """Either sim (the built-in simulated OBS) or ws://host:port (OBS listens on 4455)."""
    password: SecretStr = SecretStr("")
    """Better set in SHOWCALLER_OBS__PASSWORD than written here."""
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
                {"hint": _OBS_URL_HINT},
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


class Record(_Section):
    """[record]: recording."""

    enabled: bool = True
    """Record the show."""
    per_talk: Literal["split", "chapter", "restart", "off"] = "split"
    """One file per slot ("split": SplitRecordFile, or chapters where OBS supports it)."""


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


class Web(_Section):
    """[web]: the countdown and host pages."""

    host: str = "127.0.0.1"
    """Address to listen on (0.0.0.0 to reach it from other machines)."""
    port: int = Field(8080, ge=1, le=65535)
    """Port to listen on."""
    token: SecretStr = SecretStr("")
    """Token the host page asks for; better set in SHOWCALLER_WEB__TOKEN."""


class Notify(_Section):
    """[notify]: where reminders and cue notices go."""

    webhooks: list[Annotated[str, AfterValidator(_http_url)]] = Field(default_factory=list)
    """Webhook URLs (Slack, Discord, ...) that get a message on every cue."""


@dataclass(frozen=True)
class ResolvedSlot:
    """A slot with its times, speakers and scene worked out (aware datetimes, event zone)."""

    index: int
    kind: SlotKind
    title: str
    speakers: list[Speaker]
    start: datetime
    end: datetime
    scene: str
    end_mode: EndMode
    grace_s: int
    min_s: float | None

    @property
    def duration(self) -> timedelta:
        """Planned length."""
        return self.end - self.start


class EventConfig(BaseSettings):
    """One event: the whole TOML file, with `SHOWCALLER_*` environment overrides on top."""

    model_config = SettingsConfigDict(
        env_prefix="SHOWCALLER_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
        title="showcaller event config",
    )

    event: Event
    """What the meetup is and when it happens."""
    obs: OBS = Field(default_factory=OBS)
    """How to reach OBS Studio."""
    scenes: Scenes = Field(default_factory=Scenes)
    """The OBS scene for each role."""
    lower_third: LowerThird = Field(default_factory=LowerThird)
    """OBS text inputs updated on every cue."""
    stream: Stream = Field(default_factory=Stream)
    """Going on air."""
    record: Record = Field(default_factory=Record)
    """Recording."""
    rehearsal: Rehearsal = Field(default_factory=Rehearsal)
    """The run-through."""
    timetable: Timetable = Field(default_factory=Timetable)
    """The slots."""
    speakers: list[Speaker] = Field(default_factory=list)
    """The people on stage."""
    checks: Checks = Field(default_factory=Checks)
    """Speaker connection checks."""
    web: Web = Field(default_factory=Web)
    """Countdown and host pages."""
    notify: Notify = Field(default_factory=Notify)
    """Notifications."""

    _source: Path | None = PrivateAttr(default=None)
    _plan: list[ResolvedSlot] | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment wins over the file (which arrives as init values)."""
        return (env_settings, init_settings)

    @property
    def config_source(self) -> Path | None:
        """The file this config was loaded from (None when built in code)."""
        return self._source

    @property
    def tz(self) -> ZoneInfo:
        """The event's time zone."""
        return ZoneInfo(self.event.timezone)

    def speaker(self, speaker_id: str) -> Speaker:
        """The speaker with this id; KeyError if there is none."""
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return speaker
        raise KeyError(speaker_id)

    def slots_resolved(self) -> list[ResolvedSlot]:
        """Every slot with times, speakers and scene resolved; computed once.

        Raises ConfigError (without lines) when the plan is inconsistent; `load_config`
        has already checked that, with lines, for a config that came from a file.
        """
        if self._plan is None:
            plan, issues = self._check_plan()
            if issues:
                file = str(self._source or "<config>")
                raise ConfigError([issue.problem(file, None) for issue in issues])
            self._plan = plan
        return list(self._plan)

    def _check_plan(self) -> tuple[list[ResolvedSlot], list[_Issue]]:
        return _plan(
            self.event,
            self.scenes,
            self.speakers,
            list(self.timetable.slots),
            {s.id for s in self.speakers},
            self.timetable,
        )


def obs_settings(config: EventConfig | None = None, *, url: str | None = None) -> OBS:
    """The OBS to drive: `url` (from --obs) over the config's obs.url.

    Without a config, [obs] comes from the environment (SHOWCALLER_OBS__PASSWORD, ...),
    so `doctor --obs ws://...` finds the password the same way a config would.
    """
    if config is not None:
        base = config.obs
    else:
        env = _environment()
        try:
            base = OBS.model_validate(env.get("obs", {}))
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            locator = TomlLocator("")
            raise ConfigError(
                [
                    _field_problem(e, "environment", locator, env, {}, prefix=("obs",))
                    for e in errors
                ]
            ) from None
    if url is None:
        return base
    try:
        return OBS.model_validate({**base.model_dump(), "url": url})
    except ValidationError:
        raise UsageError(
            f"--obs {url!r}: expected sim or ws://host:port",
            hint=_OBS_URL_HINT,
        ) from None


def json_schema() -> dict[str, Any]:
    """JSON Schema of the event file (what `showcaller schema` prints)."""
    schema = EventConfig.model_json_schema()
    # Declared as draft-07: taplo (Even Better TOML) validates with a draft-07 engine, and
    # nothing pydantic emits here needs a newer draft ($defs is reached by JSON pointer).
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


# ---------------------------------------------------------------------------------------
# Plan checks: times, speakers and scenes across slots.


class _Issue(NamedTuple):
    """A problem found by the plan checks, before it has a file and line."""

    loc: KeyPath
    message: str
    hint: str = ""

    def problem(self, file: str, line: int | None) -> ConfigProblem:
        return ConfigProblem(file, line, format_path(self.loc), self.message, self.hint)


def _label(kind: object, title: object) -> str:
    """How a slot is named in a message: `talk "Scaling laws"`, or just `qa`."""
    kind_text = kind if isinstance(kind, str) else "slot"
    return f'{kind_text} "{title}"' if isinstance(title, str) and title else kind_text


def _slot_loc(index: int, *rest: str | int) -> KeyPath:
    return ("timetable", "slots", index, *rest)


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _plus(moment: datetime, length: timedelta) -> datetime:
    """Elapsed-time addition (through UTC), so a DST change cannot stretch a slot."""
    return (moment.astimezone(UTC) + length).astimezone(moment.tzinfo)


def _plan(
    event: Event | None,
    scenes: Scenes | None,
    speakers: Sequence[Speaker | None],
    slots: Sequence[Slot | None] | None,
    known_ids: set[str],
    timetable: Timetable,
) -> tuple[list[ResolvedSlot], list[_Issue]]:
    """Resolve the slots; the parts that are None failed field validation and are skipped."""
    issues: list[_Issue] = []
    by_id: dict[str, tuple[int, Speaker]] = {}
    for j, speaker in enumerate(speakers):
        if speaker is None:
            continue
        if speaker.id in by_id:
            first = by_id[speaker.id][0]
            issues.append(
                _Issue(
                    ("speakers", j, "id"),
                    f"duplicate speaker id {speaker.id!r}",
                    f"speakers[{first}] has it already; ids must be unique",
                )
            )
        else:
            by_id[speaker.id] = (j, speaker)
    if slots is None:
        return [], issues
    if not slots:
        issues.append(
            _Issue(
                ("timetable", "slots"),
                "the timetable is empty",
                "add a [[timetable.slots]] table for every part of the show",
            )
        )
        return [], issues

    labels = [_label(s.kind, s.title) if s else "slot" for s in slots]
    known = ", ".join(sorted(known_ids)) or "none: add [[speakers]] tables"
    for i, slot in enumerate(slots):
        if slot is None:
            continue
        for k, speaker_id in enumerate(slot.speakers):
            if speaker_id not in known_ids:
                issues.append(
                    _Issue(
                        _slot_loc(i, "speakers", k),
                        f"{labels[i]}: unknown speaker {speaker_id!r}",
                        f"known speaker ids: {known}",
                    )
                )
        if scenes is not None and slot.scene is None and scenes.scene_for(slot.kind) is None:
            issues.append(
                _Issue(
                    _slot_loc(i, "scene"),
                    f"{labels[i]}: no OBS scene: scenes.{slot.kind} is not set",
                    f'set scenes.{slot.kind} = "...", or scene = "..." on this slot',
                )
            )
        if slot.min is not None and slot.kind not in ("break", "qa"):
            issues.append(
                _Issue(
                    _slot_loc(i, "min"),
                    f"{labels[i]}: only break and qa slots can be squeezed",
                    "remove min from this slot",
                )
            )
        elif slot.min is not None and slot.duration is not None and slot.min > slot.duration:
            issues.append(
                _Issue(
                    _slot_loc(i, "min"),
                    f"{labels[i]}: min {format_duration(slot.min)} is longer than the slot "
                    f"({format_duration(slot.duration)})",
                )
            )
    if event is None:
        return [], issues

    starts = _starts(event, slots, labels, issues)
    ends = _ends(slots, starts, labels, issues)
    if issues:
        return [], issues

    language = event.language
    resolved: list[ResolvedSlot] = []
    for i, slot in enumerate(slots):
        start, end = starts[i], ends[i]
        # No issues means every slot validated and has both times.
        if slot is None or start is None or end is None or scenes is None:
            return [], issues
        resolved.append(
            ResolvedSlot(
                index=i,
                kind=slot.kind,
                title=slot.title or KIND_TITLES[language][slot.kind],
                speakers=[by_id[s][1] for s in slot.speakers],
                start=start,
                end=end,
                scene=slot.scene or scenes.scene_for(slot.kind) or "",
                end_mode="grace" if isinstance(slot.end, int) else slot.end,
                grace_s=slot.end if isinstance(slot.end, int) else 0,
                min_s=_min_seconds(slot, timetable, end - start),
            )
        )
    return resolved, issues


def _min_seconds(slot: Slot, timetable: Timetable, length: timedelta) -> float | None:
    if slot.kind not in ("break", "qa"):
        return None
    if slot.min is not None:
        return slot.min.total_seconds()
    default = timetable.break_min if slot.kind == "break" else timetable.qa_min
    # A default longer than the slot itself would make the slot grow; it can only shrink.
    return min(default, length).total_seconds()


def _starts(
    event: Event, slots: Sequence[Slot | None], labels: list[str], issues: list[_Issue]
) -> list[datetime | None]:
    tz = ZoneInfo(event.timezone)
    starts: list[datetime | None] = []
    last: tuple[int, datetime] | None = None  # the latest slot whose start is known
    for i, slot in enumerate(slots):
        start: datetime | None = None
        previous = slots[i - 1] if i else None
        previous_start = starts[i - 1] if i else None
        if slot is None:
            pass
        elif slot.start is not None:
            day = last[1].date() if last else event.date
            start = datetime.combine(day, slot.start, tzinfo=tz)
            if last is not None and start < last[1]:
                start = _earlier_start(event, i, start, last, labels, issues)
        elif i == 0:
            issues.append(
                _Issue(
                    _slot_loc(0, "start"),
                    f"{labels[0]}: the first slot needs a start time",
                    'e.g. start = "19:00"',
                )
            )
        elif previous is not None and previous_start is not None:
            if previous.duration is not None:
                start = _plus(previous_start, previous.duration)
            else:
                issues.append(
                    _Issue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: no start time, and {labels[i - 1]} before it has no "
                        "duration",
                        "give this slot a start, or the previous slot a duration",
                    )
                )
        starts.append(start)
        if start is not None:
            last = (i, start)
    return starts


def _earlier_start(
    event: Event,
    index: int,
    start: datetime,
    last: tuple[int, datetime],
    labels: list[str],
    issues: list[_Issue],
) -> datetime:
    """A clock time earlier than the slot before: the next day, or a mistake."""
    j, last_start = last
    next_day = datetime.combine(start.date() + timedelta(days=1), start.timetz())
    # Rolling over to the next day is plausible only for a short step (23:50 → 00:10);
    # 20:00 → 19:50 is a slot listed out of order.
    if next_day - last_start <= timedelta(hours=12):
        if event.crosses_midnight:
            return next_day
        issues.append(
            _Issue(
                _slot_loc(index, "start"),
                f"{labels[index]}: starts at {_hm(start)}, earlier than {labels[j]} "
                f"(timetable.slots[{j}]) at {_hm(last_start)}",
                "the show crosses midnight: set event.crosses_midnight = true if that is intended",
            )
        )
        return next_day
    issues.append(
        _Issue(
            _slot_loc(index, "start"),
            f"{labels[index]}: starts at {_hm(start)}, before {labels[j]} "
            f"(timetable.slots[{j}]) which starts at {_hm(last_start)}",
            "list the slots in time order",
        )
    )
    return start


def _ends(
    slots: Sequence[Slot | None],
    starts: list[datetime | None],
    labels: list[str],
    issues: list[_Issue],
) -> list[datetime | None]:
    ends: list[datetime | None] = []
    latest: tuple[int, datetime] | None = None  # the slot that runs latest so far
    for i, slot in enumerate(slots):
        start = starts[i]
        end: datetime | None = None
        if slot is not None and start is not None:
            if latest is not None and latest[1] > start >= (starts[latest[0]] or start):
                j, until = latest
                issues.append(
                    _Issue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: starts at {_hm(start)}, while {labels[j]} "
                        f"(timetable.slots[{j}]) runs until {_hm(until)}",
                        f"shorten timetable.slots[{j}] or start this slot later",
                    )
                )
            following = starts[i + 1] if i + 1 < len(slots) else None
            if slot.duration is not None:
                end = _plus(start, slot.duration)
            elif i + 1 == len(slots):
                issues.append(
                    _Issue(
                        _slot_loc(i, "duration"),
                        f"{labels[i]}: the last slot needs a duration",
                        'e.g. duration = "10m"',
                    )
                )
            elif following is not None and following == start:
                issues.append(
                    _Issue(
                        _slot_loc(i, "start"),
                        f"{labels[i]}: has no duration and the next slot starts at the same time",
                        "give this slot a duration, or the next slot a later start",
                    )
                )
            elif following is not None and following > start:
                end = following
        ends.append(end)
        if end is not None and (latest is None or end > latest[1]):
            latest = (i, end)
    return ends


# ---------------------------------------------------------------------------------------
# Loading: TOML → data, environment on top, validation, problems with lines.

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")

# pydantic error types that read better in the words of a TOML file.
_MESSAGES = {
    "missing": "missing (required)",
    "string_too_short": "must not be empty",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
    "list_type": "expected an array",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "date_type": "expected a date like 2026-12-10",
    "date_parsing": "expected a date like 2026-12-10",
    "date_from_datetime_parsing": "expected a date like 2026-12-10",
    "date_from_datetime_inexact": "expected a date without a time, like 2026-12-10",
}


def load_config(path: str | os.PathLike[str]) -> EventConfig:
    """Read, check and resolve one event file; ConfigError lists every problem found."""
    source = Path(path)
    file = str(path)
    try:
        # utf-8-sig: editors on Windows save a BOM, which tomllib would refuse.
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [
                ConfigProblem(
                    file, None, "", "no such file", "give the path of the event's TOML file"
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            [ConfigProblem(file, None, "", f"cannot read the file: {reason}")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(file, exc)]) from None

    locator = TomlLocator(text)
    env = _environment()
    try:
        config = EventConfig(**data)
    except ValidationError as exc:
        merged = _merge(data, env)
        problems = [
            _field_problem(err, file, locator, env, merged)
            for err in exc.errors(include_url=False, include_input=False)
        ]
        problems += [_locate(issue, file, locator, env) for issue in _partial_plan_issues(merged)]
        raise ConfigError(_in_file_order(problems)) from None

    config._source = source
    plan, issues = config._check_plan()
    if issues:
        raise ConfigError(_in_file_order([_locate(i, file, locator, env) for i in issues]))
    config._plan = plan
    return config


_SETTINGS_FIELD = re.compile(r'field "([^"]+)"')


def _environment() -> dict[str, Any]:
    """The SHOWCALLER_* variables as nested values, parsed the way EventConfig parses them."""
    try:
        return EnvSettingsSource(EventConfig)()
    except SettingsError as exc:
        # Raised for a list or table variable that is not JSON; its text names the field only.
        match = _SETTINGS_FIELD.search(str(exc))
        section = match.group(1) if match else ""
        name = f"SHOWCALLER_{section.upper()}*" if section else "SHOWCALLER_*"
        problem = ConfigProblem(
            name,
            None,
            section,
            "cannot parse the value of this environment variable",
            """lists and tables are JSON there, e.g. SHOWCALLER_NOTIFY__WEBHOOKS='["https://..."]'""",
        )
        raise ConfigError([problem]) from None


def _in_file_order(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _syntax_problem(file: str, exc: tomllib.TOMLDecodeError) -> ConfigProblem:
    message = str(exc)
    match = _AT_LINE.search(message)
    if not match:
        return ConfigProblem(file, None, "", f"invalid TOML: {message}")
    text = message[: match.start()]
    return ConfigProblem(
        file, int(match.group(1)), "", f"invalid TOML: {text} (column {match.group(2)})"
    )


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, tables merged key by key (as pydantic-settings does)."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _env_name(loc: Sequence[str | int], env: Mapping[str, Any]) -> str | None:
    """The environment variable that set the value at `loc`, if one did."""
    node: object = env
    for depth, part in enumerate(loc):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
        if not isinstance(node, Mapping):
            names = [str(p).upper() for p in loc[: depth + 1]]
            return "SHOWCALLER_" + "__".join(names)
    return None


def _locate(
    issue: _Issue, file: str, locator: TomlLocator, env: Mapping[str, Any]
) -> ConfigProblem:
    name = _env_name(issue.loc, env)
    if name:
        return issue.problem(name, None)
    return issue.problem(file, locator.line(issue.loc))


def _field_problem(
    err: ErrorDetails,
    file: str,
    locator: TomlLocator,
    env: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    prefix: KeyPath = (),
) -> ConfigProblem:
    loc: KeyPath = (*prefix, *err["loc"])
    hint = ""
    if err["type"] == "extra_forbidden":
        message = "unknown key"
        hint = _known_keys_hint(loc)
    else:
        message = _MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        message = message.replace("Input should be", "expected", 1)
        # Our own validators put a hint in the error's context; pydantic's have none.
        hint = str(err.get("ctx", {}).get("hint", ""))
    if len(loc) >= 3 and loc[:2] == ("timetable", "slots") and isinstance(loc[2], int):
        message = f"{_raw_slot_label(data, loc[2])}: {message}"
    return _locate(_Issue(loc, message, hint), file, locator, env)


def _raw_slot_label(data: Mapping[str, Any], index: int) -> str:
    timetable = data.get("timetable")
    slots = timetable.get("slots") if isinstance(timetable, Mapping) else None
    raw = slots[index] if isinstance(slots, list) and index < len(slots) else None
    return _label(raw.get("kind"), raw.get("title")) if isinstance(raw, Mapping) else "slot"


def _known_keys_hint(loc: KeyPath) -> str:
    """ "did you mean ...?" for a misspelt key, else the keys the table knows."""
    model: type[BaseModel] | None = EventConfig
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field else None
    if model is None:
        return ""
    keys = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
    return f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(keys)}"


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model inside `Model`, `list[Model]` or `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found:
            return found
    return None


_ModelT = TypeVar("_ModelT", bound=BaseModel)


def _try(model: type[_ModelT], raw: object) -> _ModelT | None:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _partial_plan_issues(data: Mapping[str, Any]) -> list[_Issue]:
    """The plan checks on the sections that did validate, so one run lists everything."""
    raw_speakers = data.get("speakers", [])
    raw_speakers = raw_speakers if isinstance(raw_speakers, list) else []
    timetable = data.get("timetable", {})
    raw_slots = timetable.get("slots", []) if isinstance(timetable, Mapping) else None
    known_ids = {
        s["id"] for s in raw_speakers if isinstance(s, Mapping) and isinstance(s.get("id"), str)
    }
    _, issues = _plan(
        _try(Event, data.get("event")),
        _try(Scenes, data.get("scenes", {})),
        [_try(Speaker, s) for s in raw_speakers],
        [_try(Slot, s) for s in raw_slots] if isinstance(raw_slots, list) else None,
        known_ids,
        Timetable(),
    )
    return issues
