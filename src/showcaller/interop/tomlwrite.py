"""A small TOML writer: values quoted so that any text survives, and a document with comments.

Only what an event file needs: strings, booleans, integers, dates, lists of strings, tables
and arrays of tables, each line with an optional trailing comment. No third-party writer
(tomli-w drops comments; the event file is meant to be read and edited by a host).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

TomlValue = str | bool | int | dt.date | Sequence[str]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# TOML basic strings may hold any character except ", \ and the control characters
# (U+0000-U+001F, U+007F), which must be escaped; tab may stay but is escaped for clarity.
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: always valid, and reads back exactly."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def toml_key(key: str) -> str:
    """A bare key when it can be one, else a quoted key."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: TomlValue) -> str:
    """One value in TOML syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        raise TypeError("datetimes are not written; use a date or a clock-time string")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return toml_string(value)
    return "[" + ", ".join(toml_string(item) for item in value) + "]"


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or editor (wide CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_COMMENT_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _comment(text: str) -> str:
    # A comment ends at the line's end (a newline in it would start a line of TOML), and
    # TOML forbids control characters other than tab in comments too.
    return " ".join(_COMMENT_CONTROL.sub(" ", text).split())


@dataclass
class TomlDocument:
    """A TOML file built line by line: tables, key = value lines, comments, blank lines."""

    lines: list[str] = field(default_factory=list)

    def comment(self, text: str = "") -> None:
        """A whole-line comment (each line of `text` its own)."""
        for line in text.splitlines() or [""]:
            line = _comment(line)
            self.lines.append(f"# {line}" if line else "#")

    def blank(self) -> None:
        """An empty line (never two in a row)."""
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def table(self, name: str, comment: str = "", *, array: bool = False) -> None:
        """`[name]` (or `[[name]]`), dotted names allowed; a blank line before it."""
        self.blank()
        head = ".".join(toml_key(part) for part in name.split("."))
        line = f"[[{head}]]" if array else f"[{head}]"
        self.lines.append(f"{line}  # {_comment(comment)}" if comment else line)

    def set(self, key: str, value: TomlValue, comment: str = "", *, width: int = 0) -> None:
        """`key = value`, padded to `width` before its comment."""
        line = f"{toml_key(key)} = {toml_value(value)}"
        if comment:
            pad = " " * max(0, width - display_width(line))
            line = f"{line}{pad}  # {_comment(comment)}"
        self.lines.append(line)

    def text(self) -> str:
        """The document, ending with one newline."""
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


__all__ = ["TomlDocument", "TomlValue", "toml_key", "toml_string", "toml_value"]
