"""The host's commands to a running show: typed, parsed from plain dicts, named for the journal.

The timetable's own commands (`timetable.Next`, `Extend`, ...) plus what only a running
show can do: `End` it, `Detach` from OBS, put the `Trouble` scene on air (and take it
off), and show a `Message` on the speaker timer. Every surface (keys, web page, the
Ctrl-C prompt) sends these, usually as a dict from JSON:

    parse_command({"command": "extend", "minutes": 2})  ->  Extend(seconds=120.0)

Slot numbers in a dict are 1-based, as the host sees them (`showcaller validate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeAlias

from showcaller.errors import UsageError
from showcaller.show.timetable import (
    Back,
    Command,
    Extend,
    Hold,
    Jump,
    Next,
    Resume,
    Skip,
    Start,
    Unskip,
)

# The longest a slot may be extended (or shortened) by one command.
MAX_EXTEND_S = 6 * 3600
# The longest message the speaker timer shows.
MAX_MESSAGE = 280


@dataclass(frozen=True)
class End:
    """End the show now: stop the recording, and the stream unless `keep_stream`."""

    keep_stream: bool = False


@dataclass(frozen=True)
class Detach:
    """Stop driving OBS and quit, leaving OBS exactly as it is (stream and recording run on)."""


@dataclass(frozen=True)
class Trouble:
    """Put the trouble scene on air (`on`), take it off again, or toggle it (None)."""

    on: bool | None = None


@dataclass(frozen=True)
class Message:
    """A line for the speaker timer (empty: clear it).

    It belongs to the slot on air: the next slot clears it, unless `pin`.
    """

    text: str
    pin: bool = False


@dataclass(frozen=True)
class RunChecks:
    """Check the speakers' picture and sound now (one speaker by id, or all)."""

    speaker: str | None = None


HostCommand: TypeAlias = Command | End | Detach | Trouble | Message | RunChecks


class BadCommand(UsageError):
    """A command a surface sent that showcaller does not know or cannot read."""

    hint = (
        "known commands: next, back, hold, resume, extend, skip, unskip, jump, start, "
        "end, detach, trouble, message, checks"
    )


def _number(data: Mapping[str, Any], key: str, command: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadCommand(f"{command}: {key} must be a number, not {value!r}")
    return float(value)


def _slot(data: Mapping[str, Any], command: str, *, required: bool) -> int | None:
    if "slot" not in data:
        if required:
            raise BadCommand(f'{command}: which slot? give "slot": its number (1 = the first)')
        return None
    value = data["slot"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadCommand(f"{command}: slot must be a slot number (1 = the first), not {value!r}")
    return value - 1


def _extend(data: Mapping[str, Any]) -> Extend:
    given = [k for k in ("minutes", "seconds") if k in data]
    if len(given) != 1:
        raise BadCommand('extend: give "minutes" or "seconds" (negative = less time)')
    seconds = _number(data, given[0], "extend") * (60 if given[0] == "minutes" else 1)
    if seconds == 0 or abs(seconds) > MAX_EXTEND_S:
        raise BadCommand(
            f"extend: {seconds:g} s is not a change a show can make "
            f"(more than 0, at most {MAX_EXTEND_S // 3600} h either way)"
        )
    return Extend(seconds)


def _skip(data: Mapping[str, Any]) -> Skip:
    return Skip(_slot(data, "skip", required=False))


def _unskip(data: Mapping[str, Any]) -> Unskip:
    return Unskip(_slot(data, "unskip", required=False))


def _jump(data: Mapping[str, Any]) -> Jump:
    slot = _slot(data, "jump", required=True)
    assert slot is not None  # required
    return Jump(slot)


def _end(data: Mapping[str, Any]) -> End:
    keep = data.get("keep_stream", False)
    if not isinstance(keep, bool):
        raise BadCommand(f"end: keep_stream must be true or false, not {keep!r}")
    return End(keep_stream=keep)


def _trouble(data: Mapping[str, Any]) -> Trouble:
    on = data.get("on")
    if on is not None and not isinstance(on, bool):
        raise BadCommand(f"trouble: on must be true, false or left out (toggle), not {on!r}")
    return Trouble(on)


def _message(data: Mapping[str, Any]) -> Message:
    text = data.get("text", "")
    if not isinstance(text, str):
        raise BadCommand(f"message: text must be a string, not {text!r}")
    text = " ".join(text.split())  # one line on the timer, whatever was pasted
    if len(text) > MAX_MESSAGE:
        raise BadCommand(f"message: {len(text)} characters; the timer shows at most {MAX_MESSAGE}")
    pin = data.get("pin", False)
    if not isinstance(pin, bool):
        raise BadCommand(f"message: pin must be true or false, not {pin!r}")
    return Message(text, pin=pin)


def _checks(data: Mapping[str, Any]) -> RunChecks:
    speaker = data.get("speaker")
    if speaker is not None and (not isinstance(speaker, str) or not speaker.strip()):
        raise BadCommand(f"checks: speaker must be a speaker's id, not {speaker!r}")
    return RunChecks(speaker.strip() if speaker else None)


_PARSERS: dict[str, tuple[Callable[[Mapping[str, Any]], HostCommand], frozenset[str]]] = {
    "next": (lambda _: Next(), frozenset()),
    "back": (lambda _: Back(), frozenset()),
    "hold": (lambda _: Hold(), frozenset()),
    "resume": (lambda _: Resume(), frozenset()),
    "start": (lambda _: Start(), frozenset()),
    "extend": (_extend, frozenset({"minutes", "seconds"})),
    "skip": (_skip, frozenset({"slot"})),
    "unskip": (_unskip, frozenset({"slot"})),
    "jump": (_jump, frozenset({"slot"})),
    "end": (_end, frozenset({"keep_stream"})),
    "detach": (lambda _: Detach(), frozenset()),
    "trouble": (_trouble, frozenset({"on"})),
    "message": (_message, frozenset({"text", "pin"})),
    "checks": (_checks, frozenset({"speaker"})),
}

COMMAND_NAMES = tuple(_PARSERS)


def parse_command(data: object) -> HostCommand:
    """The command a dict names; raises BadCommand saying what is wrong with it."""
    if not isinstance(data, Mapping):
        raise BadCommand(f'a command is an object like {{"command": "next"}}, not {data!r}')
    name = data.get("command")
    if not isinstance(name, str):
        raise BadCommand(f'no "command" in {dict(data)!r}')
    try:
        parser, arguments = _PARSERS[name.strip().casefold()]
    except KeyError:
        raise BadCommand(f"unknown command {name!r}") from None
    unknown = sorted(set(data) - arguments - {"command"})
    if unknown:
        allowed = ", ".join(sorted(arguments)) or "none"
        raise BadCommand(f"{name}: unknown argument(s) {', '.join(unknown)} (it takes: {allowed})")
    return parser(data)


def command_name(command: object) -> str:
    """How the journal and messages name a command: `extend(seconds=120.0)`, `next`."""
    name = type(command).__name__.lower()
    if not is_dataclass(command):
        return repr(command)
    args = ", ".join(f"{f.name}={getattr(command, f.name)!r}" for f in fields(command))
    return f"{name}({args})" if args else name


__all__ = [
    "COMMAND_NAMES",
    "BadCommand",
    "Detach",
    "End",
    "HostCommand",
    "Message",
    "RunChecks",
    "Trouble",
    "command_name",
    "parse_command",
]
