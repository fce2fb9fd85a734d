"""`EventConfig`: the whole event file, with `SHOWCALLER_*` environment overrides on top."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from showcaller.config.plan import PlanIssue, ResolvedSlot, resolve_slots
from showcaller.config.sections import (
    OBS,
    Cards,
    Checks,
    Connpass,
    Event,
    Health,
    LowerThird,
    Notify,
    Posts,
    Record,
    Rehearsal,
    Scenes,
    Sim,
    Speaker,
    Sponsor,
    Stream,
    Timetable,
    Web,
)
from showcaller.config.tomlpos import Path as KeyPath
from showcaller.config.tomlpos import TomlLocator, format_path
from showcaller.errors import ConfigError


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
    health: Health = Field(default_factory=Health)
    """Stream health thresholds."""
    web: Web = Field(default_factory=Web)
    """Countdown and host pages."""
    notify: Notify = Field(default_factory=Notify)
    """Notifications."""
    sim: Sim = Field(default_factory=Sim)
    """What the built-in simulated OBS's speaker feeds do (rehearsing with `--obs sim`)."""
    sponsors: list[Sponsor] = Field(default_factory=list)
    """Who supports the event (thanked on the MC's cue cards)."""
    cards: Cards = Field(default_factory=Cards)
    """The MC's cue cards: templates per slot kind."""
    posts: Posts = Field(default_factory=Posts)
    """Post drafts for the live-tweeting host."""
    connpass: Connpass = Field(default_factory=Connpass)
    """The event's connpass page."""

    _source: Path | None = PrivateAttr(default=None)
    _plan: list[ResolvedSlot] | None = PrivateAttr(default=None)
    _locator: TomlLocator | None = PrivateAttr(default=None)

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

    def where(self, path: KeyPath) -> str:
        """`path` as a message names it: `event.toml:20: scenes.lt` (with its file and line
        when the config came from a file), else just `scenes.lt`."""
        name = format_path(path)
        line = self.line_of(path)
        if self._source is None:
            return name
        return f"{self._source}:{line}: {name}" if line else f"{self._source}: {name}"

    def line_of(self, path: KeyPath) -> int | None:
        """The line of `path` (or of its table) in the file this config came from."""
        return self._locator.line(path) if self._locator is not None else None

    @property
    def room_name(self) -> str:
        """The room's name: `[event] room`, else the file's stem in lower case (other
        characters become -), as it appears in URLs and metric labels."""
        if self.event.room:
            return self.event.room
        stem = self._source.stem if self._source is not None else "room"
        return re.sub(r"[^a-z0-9_-]+", "-", stem.casefold()).strip("-_")[:40] or "room"

    def password_line(self) -> int | None:
        """The line where the file itself writes obs.password (None: not in the file)."""
        return self._locator.exact_line(("obs", "password")) if self._locator else None

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

    def _check_plan(self) -> tuple[list[ResolvedSlot], list[PlanIssue]]:
        known = {s.id for s in self.speakers}
        plan, issues = resolve_slots(
            self.event,
            self.scenes,
            self.speakers,
            list(self.timetable.slots),
            known,
            self.timetable,
        )
        for i, feed in enumerate(self.sim.feeds):
            if feed.speaker not in known:
                issues.append(
                    PlanIssue(
                        ("sim", "feeds", i, "speaker"),
                        f"no speaker has the id {feed.speaker!r}",
                        "use an id from [[speakers]]",
                    )
                )
        return plan, issues


def json_schema() -> dict[str, Any]:
    """JSON Schema of the event file (what `showcaller schema` prints)."""
    schema = EventConfig.model_json_schema()
    # Declared as draft-07: taplo (Even Better TOML) validates with a draft-07 engine, and
    # nothing pydantic emits here needs a newer draft ($defs is reached by JSON pointer).
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
