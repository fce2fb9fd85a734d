"""The event config: one TOML file per event, `SHOWCALLER_*` env overrides, located problems.

`load_config(path)` returns a frozen `EventConfig` or raises `ConfigError` listing every
problem it found, each as `FILE:LINE: field.path: what is wrong (hint)`. Field checks come
from pydantic; the plan checks (times, speakers, scenes) run even when some fields are
wrong, on the parts that are right, so one run shows the whole list.

Secrets (`obs.password`, `web.token`, `rehearsal.stream_test_key`) are `SecretStr`, and no
problem ever quotes an input value that pydantic saw (`hide_input_in_errors`, and messages
are built from the error type, never from `input`).

The package, each layer importing only the ones above it:
  sections.py  the tables of the file (pydantic) and the value types: durations, clock times
  plan.py      slot times, speakers and scenes worked out (ResolvedSlot), plan issues
  model.py     EventConfig: the whole file, environment on top; json_schema()
  load.py      load_config(), SHOWCALLER_* overrides, problems with file and line
"""

from showcaller.config.load import load_config, obs_settings
from showcaller.config.model import EventConfig, json_schema
from showcaller.config.plan import KIND_TITLES, ResolvedSlot
from showcaller.config.sections import (
    OBS,
    Checks,
    Event,
    Health,
    LowerThird,
    Notify,
    Record,
    Rehearsal,
    Scenes,
    Sim,
    SimFeed,
    Slot,
    SlotKind,
    Speaker,
    Stream,
    Timetable,
    Web,
    Webhook,
    format_duration,
    parse_duration,
)

__all__ = [
    "KIND_TITLES",
    "OBS",
    "Checks",
    "Event",
    "EventConfig",
    "Health",
    "LowerThird",
    "Notify",
    "Record",
    "Rehearsal",
    "ResolvedSlot",
    "Scenes",
    "Sim",
    "SimFeed",
    "Slot",
    "SlotKind",
    "Speaker",
    "Stream",
    "Timetable",
    "Web",
    "Webhook",
    "format_duration",
    "json_schema",
    "load_config",
    "obs_settings",
    "parse_duration",
]
