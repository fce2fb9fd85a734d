"""Where a value stands in a TOML text: key paths to line numbers.

tomllib returns values without positions, so a config problem could not say its line.
`TomlLocator` scans the same (already valid) text once and remembers the line of every
key, table header and array element, keyed by a path such as
`("timetable", "slots", 4, "start")`, which prints as `timetable.slots[4].start`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_SCALAR_END = frozenset(",]}#\n")


def format_path(path: Sequence[str | int]) -> str:
    """`("a", "b c", 3, "d")` → `a."b c"[3].d`, the way a TOML reader names it."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        name = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
        out += f".{name}" if out else name
    return out


def parse_path(text: str) -> Path:
    """`timetable.slots[4].start` → `("timetable", "slots", 4, "start")` (bare keys only)."""
    return tuple(int(index) if index else key for key, index in _PATH_PART.findall(text))


# How deep arrays and inline tables may nest before the opening bracket is named as the
# place (tomllib reads them recursively and gives up with a RecursionError, no position).
_DEEP = 100


def unclosed(text: str) -> tuple[int, str] | None:
    """Where an invalid TOML text opens what it never closes: (line, what), else None.

    `what` is the missing closing delimiter (a quote, a triple quote, `]` or `}`), or
    `nesting` where arrays or inline tables nest too deeply. tomllib reports these "at
    end of document" (or with a RecursionError), so the line where the string or bracket
    opened is found here, by a scan that knows strings, comments, brackets and headers.
    """
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    stack: list[tuple[str, int]] = []
    pos, size = 0, len(text)
    at_line_start = True
    while pos < size:
        ch = text[pos]
        if ch == "\n":
            at_line_start = True
            pos += 1
            continue
        if ch in " \t\r":
            pos += 1
            continue
        if ch == "#":
            end = text.find("\n", pos)
            pos = size if end < 0 else end
            continue
        if text.startswith(('"""', "'''"), pos):
            quote = text[pos : pos + 3]
            end = _multiline_end(text, pos + 3, quote)
            if end < 0:
                return line(pos), quote
            pos = end
        elif ch in "\"'":
            end = _single_line_end(text, pos + 1, ch)
            if end < 0:
                return line(pos), ch
            pos = end
        elif ch == "[" and at_line_start and not stack:
            # A table header closes on its own line (tomllib locates one that does not).
            end = text.find("\n", pos)
            pos = size if end < 0 else end
        elif ch in "[{":
            stack.append(("]" if ch == "[" else "}", pos))
            if len(stack) > _DEEP:
                return line(pos), "nesting"
            pos += 1
        else:
            if ch in "]}" and stack:
                stack.pop()
            pos += 1
        at_line_start = False
    if stack:
        closer, opened = stack[-1]
        return line(opened), closer
    return None


def _single_line_end(text: str, pos: int, quote: str) -> int:
    """Just past the closing quote; a newline ends it too (tomllib locates that itself)."""
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and quote == '"':
            pos += 2
            continue
        if ch in (quote, "\n"):
            return pos + 1
        pos += 1
    return -1


def _multiline_end(text: str, pos: int, quote: str) -> int:
    """Just past the closing triple quote (with up to two quotes of content before it)."""
    while True:
        end = text.find(quote, pos)
        if end < 0:
            return -1
        if quote == '"""':
            slashes = len(text[pos:end]) - len(text[pos:end].rstrip("\\"))
            if slashes % 2:
                pos = end + 1
                continue
        run = 3
        while run < 5 and text[end + run : end + run + 1] == quote[0]:
            run += 1
        return end + run


class TomlLocator:
    """Lines (1-based) of the keys, headers and array elements of one valid TOML text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._lines: dict[Path, int] = {}
        # Arrays of tables: how many entries each has so far, so `[[a.b]]` gets its index.
        self._aot_count: dict[Path, int] = {}
        self._scan()

    def line(self, path: Sequence[str | int] | str) -> int | None:
        """The line of `path`, else of its nearest located parent (its table header), else None."""
        parts = parse_path(path) if isinstance(path, str) else tuple(path)
        while parts:
            found = self._lines.get(parts)
            if found is not None:
                return found
            parts = parts[:-1]
        return None

    def exact_line(self, path: Sequence[str | int] | str) -> int | None:
        """The line of `path` itself, or None when the text does not contain it."""
        parts = parse_path(path) if isinstance(path, str) else tuple(path)
        return self._lines.get(parts)

    # -- scanning ---------------------------------------------------------------------

    def _line_at(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos)

    def _peek(self, n: int = 1) -> str:
        return self._text[self._pos : self._pos + n]

    def _mark(self, path: Path, pos: int, *, explicit: bool = True) -> None:
        if explicit:
            self._lines[path] = self._line_at(pos)
        else:
            self._lines.setdefault(path, self._line_at(pos))

    def _skip_space(self, *, newlines: bool) -> None:
        text = self._text
        while self._pos < len(text):
            ch = text[self._pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self._pos += 1
            elif ch == "#":
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                return

    def _scan(self) -> None:
        table: Path = ()
        while True:
            self._skip_space(newlines=True)
            if self._pos >= len(self._text):
                return
            start = self._pos
            if self._peek(2) == "[[":
                self._pos += 2
                table = self._array_table_header(self._keys(), start)
                self._expect("]]")
            elif self._peek() == "[":
                self._pos += 1
                table = self._table_header(self._keys(), start)
                self._expect("]")
            else:
                self._key_value(table)

    def _resolve(self, keys: list[str]) -> Path:
        """Header keys → a path with the current index of every array of tables on the way."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            count = self._aot_count.get(path)
            if count is not None:
                path = (*path, count - 1)
        return path

    def _table_header(self, keys: list[str], start: int) -> Path:
        path = self._resolve(keys)
        for depth in range(1, len(path)):
            self._mark(path[:depth], start, explicit=False)
        self._mark(path, start)
        return path

    def _array_table_header(self, keys: list[str], start: int) -> Path:
        parent = self._resolve(keys[:-1])
        array = (*parent, keys[-1])
        index = self._aot_count.get(array, 0)
        self._aot_count[array] = index + 1
        for depth in range(1, len(array) + 1):
            self._mark(array[:depth], start, explicit=False)
        path = (*array, index)
        self._mark(path, start)
        return path

    def _expect(self, token: str) -> None:
        self._skip_space(newlines=False)
        if self._text.startswith(token, self._pos):
            self._pos += len(token)

    def _keys(self) -> list[str]:
        """A dotted key: bare, "basic" or 'literal' parts separated by dots."""
        keys: list[str] = []
        while True:
            self._skip_space(newlines=False)
            ch = self._peek()
            if ch == '"':
                keys.append(self._basic_string())
            elif ch == "'":
                keys.append(self._literal_string())
            else:
                match = _BARE_KEY.match(self._text, self._pos)
                if not match:
                    return keys
                keys.append(match.group())
                self._pos = match.end()
            self._skip_space(newlines=False)
            if self._peek() != ".":
                return keys
            self._pos += 1

    def _key_value(self, table: Path) -> None:
        start = self._pos
        keys = self._keys()
        if not keys:
            # Not a key: skip the line rather than loop forever (the text was valid TOML,
            # so this only happens on input tomllib would have refused).
            end = self._text.find("\n", self._pos)
            self._pos = len(self._text) if end < 0 else end + 1
            return
        path = (*table, *keys)
        for depth in range(len(table) + 1, len(path)):
            self._mark(path[:depth], start, explicit=False)
        self._mark(path, start)
        self._expect("=")
        self._skip_space(newlines=False)
        self._value(path)

    def _value(self, path: Path) -> None:
        ch = self._peek()
        if self._peek(3) in ('"""', "'''"):
            self._multiline_string(self._peek(3))
        elif ch == '"':
            self._basic_string()
        elif ch == "'":
            self._literal_string()
        elif ch == "[":
            self._array(path)
        elif ch == "{":
            self._inline_table(path)
        else:
            text = self._text
            while self._pos < len(text) and text[self._pos] not in _SCALAR_END:
                self._pos += 1

    def _array(self, path: Path) -> None:
        self._pos += 1
        index = 0
        while self._pos < len(self._text):
            self._skip_space(newlines=True)
            ch = self._peek()
            if ch == "]":
                self._pos += 1
                return
            if ch == ",":
                self._pos += 1
                continue
            self._mark((*path, index), self._pos)
            self._value((*path, index))
            index += 1

    def _inline_table(self, path: Path) -> None:
        self._pos += 1
        while self._pos < len(self._text):
            self._skip_space(newlines=True)
            ch = self._peek()
            if ch == "}":
                self._pos += 1
                return
            if ch == ",":
                self._pos += 1
                continue
            self._key_value(path)

    def _basic_string(self) -> str:
        text = self._text
        self._pos += 1
        out: list[str] = []
        while self._pos < len(text):
            ch = text[self._pos]
            if ch == "\\":
                out.append(text[self._pos : self._pos + 2])
                self._pos += 2
                continue
            self._pos += 1
            if ch == '"' or ch == "\n":
                break
            out.append(ch)
        raw = "".join(out)
        # Keys with escapes are rare; decode the simple ones so the path matches tomllib's.
        return raw.replace('\\"', '"').replace("\\\\", "\\") if "\\" in raw else raw

    def _literal_string(self) -> str:
        end = self._text.find("'", self._pos + 1)
        end = len(self._text) if end < 0 else end
        value = self._text[self._pos + 1 : end]
        self._pos = end + 1
        return value

    def _multiline_string(self, quote: str) -> None:
        text = self._text
        pos = self._pos + 3
        while True:
            end = text.find(quote, pos)
            if end < 0:
                self._pos = len(text)
                return
            if quote == '"""':
                # A closing quote preceded by an odd run of backslashes is escaped.
                slashes = len(text[pos:end]) - len(text[pos:end].rstrip("\\"))
                if slashes % 2:
                    pos = end + 1
                    continue
            # Up to two quotes right before the delimiter belong to the content: """a""""
            run = 3
            while run < 5 and text[end + run : end + run + 1] == quote[0]:
                run += 1
            self._pos = end + run
            return
