"""Loading: TOML → data, environment on top, validation, problems with file and line.

Every pydantic error becomes a `ConfigProblem` (`FILE:LINE: field.path: message (hint)`),
built from the error type, never from its input, so no secret is ever quoted.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import EnvSettingsSource, SettingsError

from showcaller.config.model import EventConfig
from showcaller.config.plan import PlanIssue, resolve_slots, slot_label
from showcaller.config.sections import OBS, OBS_URL_HINT, Event, Scenes, Slot, Speaker, Timetable
from showcaller.config.tomlpos import Path as KeyPath
from showcaller.config.tomlpos import TomlLocator, unclosed
from showcaller.errors import ConfigError, ConfigProblem, UsageError

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
# More digits than int() will read (Python's guard against quadratic-time conversions).
_LONG_NUMBER = re.compile(r"\d(?:_?\d){" + str(sys.get_int_max_str_digits()) + ",}")

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
        raise ConfigError([_syntax_problem(file, exc, text)]) from None
    except ValueError:
        # Not a TOMLDecodeError: int()'s limit on digits, which tomllib lets through.
        raise ConfigError([_long_number_problem(file, text)]) from None
    except RecursionError:
        # tomllib reads nested arrays and inline tables recursively.
        found = unclosed(text)
        raise ConfigError(
            [
                ConfigProblem(
                    file,
                    found[0] if found else None,
                    "",
                    "invalid TOML: arrays or tables nested too deeply",
                )
            ]
        ) from None

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
    config._locator = locator
    plan, issues = config._check_plan()
    if issues:
        raise ConfigError(_in_file_order([_locate(i, file, locator, env) for i in issues]))
    config._plan = plan
    return config


# Further ahead than this, an event date is more likely a typo in the year than a plan.
_FAR_AHEAD = timedelta(days=366)


def date_warnings(config: EventConfig, now: datetime) -> list[ConfigProblem]:
    """event.date in the past, or more than a year ahead (`now`: the current time)."""
    today = now.astimezone(config.tz).date()
    date = config.event.date
    if date < today:
        message = f"{date} is in the past (today is {today} in {config.event.timezone})"
        hint = "set the date of this meetup; copying last month's file keeps its date"
    elif date - today > _FAR_AHEAD:
        message = f"{date} is more than a year away (today is {today})"
        hint = "a typo in the year?"
    else:
        return []
    file = str(config.config_source or "<config>")
    line = config.line_of(("event", "date"))
    return [ConfigProblem(file, line, "event.date", message, hint)]


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


def _long_number_problem(file: str, text: str) -> ConfigProblem:
    found = _LONG_NUMBER.search(text)
    line = text.count("\n", 0, found.start()) + 1 if found else None
    limit = sys.get_int_max_str_digits()
    return ConfigProblem(file, line, "", f"a number too long to read (more than {limit} digits)")


# What a string or bracket that never closes lacks, said where it opens.
_NEVER_CLOSED = {
    '"': ("a string opens here and is never closed", 'end it with " on the same line'),
    "'": ("a string opens here and is never closed", "end it with ' on the same line"),
    '"""': ('a """ string opens here and is never closed', 'end it with """'),
    "'''": ("a ''' string opens here and is never closed", "end it with '''"),
    "]": ("an array opens here and is never closed", "end it with ]"),
    "}": ("an inline table opens here and is never closed", "end it with } on the same line"),
}


def _syntax_problem(file: str, exc: tomllib.TOMLDecodeError, text: str) -> ConfigProblem:
    message = str(exc)
    match = _AT_LINE.search(message)
    if not match:
        # "… (at end of document)": say where the string or bracket that never closes opened.
        found = unclosed(text)
        if found is not None and found[1] in _NEVER_CLOSED:
            what, hint = _NEVER_CLOSED[found[1]]
            return ConfigProblem(file, found[0], "", f"invalid TOML: {what}", hint)
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        return ConfigProblem(file, max(last, 1), "", f"invalid TOML: {message}")
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
    issue: PlanIssue, file: str, locator: TomlLocator, env: Mapping[str, Any]
) -> ConfigProblem:
    name = _env_name(issue.loc, env)
    if name:
        return issue.problem(name, None)
    other = locator.line(issue.other) if issue.other is not None else None
    return issue.problem(file, locator.line(issue.loc), other)


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
    return _locate(PlanIssue(loc, message, hint), file, locator, env)


def _raw_slot_label(data: Mapping[str, Any], index: int) -> str:
    timetable = data.get("timetable")
    slots = timetable.get("slots") if isinstance(timetable, Mapping) else None
    raw = slots[index] if isinstance(slots, list) and index < len(slots) else None
    return slot_label(raw.get("kind"), raw.get("title")) if isinstance(raw, Mapping) else "slot"


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


def _partial_plan_issues(data: Mapping[str, Any]) -> list[PlanIssue]:
    """The plan checks on the sections that did validate, so one run lists everything."""
    raw_speakers = data.get("speakers", [])
    raw_speakers = raw_speakers if isinstance(raw_speakers, list) else []
    timetable = data.get("timetable", {})
    raw_slots = timetable.get("slots", []) if isinstance(timetable, Mapping) else None
    known_ids = {
        s["id"] for s in raw_speakers if isinstance(s, Mapping) and isinstance(s.get("id"), str)
    }
    _, issues = resolve_slots(
        _try(Event, data.get("event")),
        _try(Scenes, data.get("scenes", {})),
        [_try(Speaker, s) for s in raw_speakers],
        [_try(Slot, s) for s in raw_slots] if isinstance(raw_slots, list) else None,
        known_ids,
        Timetable(),
    )
    return issues


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
    if url is not None:
        try:
            base = OBS.model_validate({**base.model_dump(), "url": url})
        except ValidationError:
            raise UsageError(
                f"--obs {url!r}: expected sim or ws://host:port",
                hint=OBS_URL_HINT,
            ) from None
    return _password_from_env(base, config)


def _password_from_env(obs: OBS, config: EventConfig | None) -> OBS:
    """obs.password_env names the variable that holds this OBS's password (one per room)."""
    if not obs.password_env or obs.url == "sim":
        return obs
    value = os.environ.get(obs.password_env)
    if value is None:
        where = f" ({config.config_source})" if config is not None and config.config_source else ""
        raise UsageError(
            f"{obs.password_env} is not set: obs.password_env{where} says it holds the "
            "password of this OBS",
            hint=f"export {obs.password_env}=... (OBS: Tools > WebSocket Server Settings)",
        )
    return obs.model_copy(update={"password": SecretStr(value)})
