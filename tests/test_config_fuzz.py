"""Config fuzz: broken copies of the example either load or fail with located problems.

Every case applies one to three mutations to config.example.toml (lines deleted,
duplicated, truncated or swapped; junk values and keys; sections deleted) and loads it.
The only allowed failure is a ConfigError whose every problem names the file, with a line
wherever the text has one for the field, and always for a TOML syntax error. Any other
exception is a crash the host would see as `error: unexpected ...` with no file and no line.

The run is seeded: CONFIG_FUZZ_SEED changes the seed, CONFIG_FUZZ_CASES the count. A
failure prints the seed, the case number and its mutations; each case draws from its own
`Random(f"{seed}:{case}")`, so `mutate(EXAMPLE_TEXT, case_rng(seed, case))` replays it.
"""

from __future__ import annotations

import os
import random
import time
import tomllib
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from showcaller.config import load_config
from showcaller.config.tomlpos import TomlLocator, parse_path
from showcaller.errors import ConfigError, ConfigProblem

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

SEED = int(os.environ.get("CONFIG_FUZZ_SEED", "20261210"))
CASES = int(os.environ.get("CONFIG_FUZZ_CASES", "1200"))

# Values a person (or an editor accident) could put where the example has a good one.
JUNK_VALUES = [
    # wrong types
    "0",
    "-1",
    "1.5",
    "-0.0",
    "true",
    "[]",
    '[1, "a", []]',
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "1979-05-27T07:32:00",
    "19:30:00",
    # empty and blank strings
    '""',
    '"   "',
    "''",
    # huge and odd numbers
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999999",
    "9" * 4301,  # past Python's digit limit for int(): tomllib raises a bare ValueError
    "[" * 1000 + "]" * 1000,  # tomllib reads nesting recursively
    "1e308",
    "-1e308",
    "inf",
    "-inf",
    "nan",
    # non-ASCII and control characters
    '"東京"',
    '"Ｔａｌｋ"',
    '"😀"',
    '"\\u0000"',
    '"a\\tb"',
    '"\\u202e"',
    # bad times, durations and dates
    '"25:99"',
    '"24:00"',
    '"23:59:60"',
    '"-1:00"',
    '"7:5"',
    '"19:30:00.5"',
    '"0s"',
    '"20"',
    '"1h1h"',
    '"99999999999999999999h"',
    '"9999999h"',
    "0001-01-01",
    "9999-12-31",
    # strings other fields expect
    '"sim"',
    '"ws://"',
    '"ws://127.0.0.1:99999"',
    '"ws://127.0.0.1:x"',
    '"http://"',
    '"Asia"',
    '"UTC"',
    '"../../etc/passwd"',
    '"manual"',
    '"talk"',
    '"sato"',
    '["sato", "sato"]',
    '["nobody"]',
    '"""two\nlines"""',
]

# Edge values of the kind a key expects, so rare combinations (a date at the end of the
# calendar, a duration too long to add) come up in every run rather than once in 10 000.
EDGE_VALUES = {
    "date": ["9999-12-31", "0001-01-01", "2026-02-29", "2026-03-29"],
    "timezone": [
        '"Europe/London"',
        '"America/Los_Angeles"',
        '"Etc/GMT+12"',
        '"Pacific/Kiritimati"',
    ],
    "start": ['"00:00"', '"23:59:59"', '"0:00"', '"24:00"', '"19:60"', "23:59:59", '"19:30:61"'],
    "duration": ['"9999999999h"', '"99999999999999999999h"', '"0s"', '"1s"', '"24h"', '"59s"'],
    "min": ['"0s"', '"9999999999h"', '"1h"'],
    "break_min": ['"0s"', '"9999999999h"', '"99999999999999999999h"'],
    "qa_min": ['"0s"', '"9999999999h"'],
    "start_before_standby": ['"9999999999h"', '"0s"', '"99999999999999999999m"'],
    "end": ["0", "-1", "9223372036854775807", '"grace"', "1.5", "true"],
    "crosses_midnight": ["true", "1"],
    "speakers": ['["sato", "sato"]', "[]", '["", "sato"]', "[1]", '"sato"'],
    "id": ['""', '"tanaka"', '"sato"', "1"],
    "kind": ['"standby"', '"break"', '"qa"', '"talk "', '"TALK"'],
    "port": ["0", "65536", "-1", "8080.0"],
    "speed": ["0", "-1", "1e-300", "inf", "nan"],
}

JUNK_KEYS = [
    "nmae",
    "x",
    "名前",
    '"quoted key"',
    "a.b",
    "id",
    "start",
    "speakers",
    "timetable",
    "event",
    "break",
    "min",
]


@dataclass
class Mutant:
    """One broken copy of the example and what was done to it."""

    text: str
    steps: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


def _short(text: str, limit: int = 60) -> str:
    """`text` quoted for a failure message, cut short (some junk is 4000 characters)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


def _lines(mutant: Mutant) -> list[str]:
    return mutant.text.split("\n")


def _delete_line(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    i = rng.randrange(len(lines))
    mutant.steps.append(f"delete line {i + 1} {_short(lines[i])}")
    del lines[i]
    mutant.text = "\n".join(lines)


def _duplicate_line(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    i = rng.randrange(len(lines))
    mutant.steps.append(f"duplicate line {i + 1} {_short(lines[i])}")
    lines.insert(i, lines[i])
    mutant.text = "\n".join(lines)


def _truncate_line(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    i = rng.randrange(len(lines))
    cut = rng.randrange(len(lines[i]) + 1)
    mutant.steps.append(f"truncate line {i + 1} to {_short(lines[i][:cut])}")
    lines[i] = lines[i][:cut]
    mutant.text = "\n".join(lines)


def _swap_lines(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    mutant.steps.append(f"swap lines {i + 1} and {j + 1}")
    lines[i], lines[j] = lines[j], lines[i]
    mutant.text = "\n".join(lines)


def _junk_value(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    assignments = [i for i, line in enumerate(lines) if "=" in line and line[:1] not in "#["]
    if not assignments:
        return _junk_key(mutant, rng)
    i = rng.choice(assignments)
    key = lines[i].split("=", 1)[0].rstrip()
    edges = EDGE_VALUES.get(key.strip())
    value = rng.choice(edges if edges and rng.random() < 0.5 else JUNK_VALUES)
    mutant.steps.append(f"line {i + 1}: {_short(f'{key} = {value}')}")
    lines[i] = f"{key} = {value}"
    mutant.text = "\n".join(lines)
    return None


def _junk_key(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    i = rng.randrange(len(lines) + 1)
    line = f"{rng.choice(JUNK_KEYS)} = {rng.choice(JUNK_VALUES)}"
    mutant.steps.append(f"insert at line {i + 1}: {_short(line)}")
    lines.insert(i, line)
    mutant.text = "\n".join(lines)


def _delete_section(mutant: Mutant, rng: random.Random) -> None:
    lines = _lines(mutant)
    headers = [i for i, line in enumerate(lines) if line.startswith("[")]
    if not headers:
        return _delete_line(mutant, rng)
    k = rng.randrange(len(headers))
    start = headers[k]
    end = headers[k + 1] if k + 1 < len(headers) else len(lines)
    mutant.steps.append(f"delete lines {start + 1}-{end} ({lines[start]})")
    del lines[start:end]
    mutant.text = "\n".join(lines)
    return None


MUTATIONS: list[Callable[[Mutant, random.Random], None]] = [
    _delete_line,
    _duplicate_line,
    _truncate_line,
    _swap_lines,
    _junk_value,
    _junk_value,  # twice as likely: values are where most of the validation lives
    _junk_key,
    _delete_section,
]


def case_rng(seed: int, case: int) -> random.Random:
    """The generator of one case, so a single failure can be replayed alone."""
    return random.Random(f"{seed}:{case}")


def mutate(text: str, rng: random.Random) -> Mutant:
    """One to three mutations of `text`."""
    mutant = Mutant(text)
    for _ in range(rng.choice((1, 1, 2, 3))):
        mutation = rng.choice(MUTATIONS)
        mutant.kinds.append(mutation.__name__.lstrip("_"))
        mutation(mutant, rng)
    return mutant


def _unlocated(problem: ConfigProblem, path: Path, text: str) -> str | None:
    """What is wrong with how `problem` is located, or None when it names file and line."""
    if problem.file != str(path):
        return f"names {problem.file!r}, not the file"
    line_count = text.count("\n") + 1
    if problem.line is not None:
        return None if 1 <= problem.line <= line_count else f"line {problem.line} is not in it"
    try:
        tomllib.loads(text)
    except (ValueError, RecursionError):  # TOMLDecodeError is a ValueError
        # Even what tomllib gives no position for ("at end of document", nesting too
        # deep) is located: where the string or bracket that never closes opened.
        return "is a TOML error without a line"
    if not problem.field:
        return "has neither a field nor a line"
    known = TomlLocator(text).line(parse_path(problem.field))
    return None if known is None else f"has no line, but {problem.field} is on line {known}"


@dataclass
class Outcome:
    """What the cases came to."""

    loaded: int = 0
    refused: int = 0
    not_toml: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)


def _run_case(case: int, tmp_path: Path, outcome: Outcome) -> None:
    mutant = mutate(EXAMPLE_TEXT, case_rng(SEED, case))
    outcome.kinds.update(mutant.kinds)
    path = tmp_path / "event.toml"
    path.write_text(mutant.text, encoding="utf-8")
    kept = tmp_path / f"case{case}.toml"  # written only when the case goes wrong
    header = f"case {case} ({'; '.join(mutant.steps)}), kept as {kept}"
    failures = len(outcome.failures)
    try:
        load_config(path)
    except ConfigError as exc:
        outcome.refused += 1
        if any(p.message.startswith("invalid TOML") for p in exc.problems):
            outcome.not_toml += 1
        wrong = [(p, _unlocated(p, path, mutant.text)) for p in exc.problems]
        outcome.failures += [f"{header}: problem {p} {why}" for p, why in wrong if why]
        if not exc.problems:
            outcome.failures.append(f"{header}: ConfigError without problems")
    except Exception as exc:  # any other exception is the crash this test looks for
        where = traceback.extract_tb(exc.__traceback__)[-1]
        outcome.failures.append(
            f"{header}: {type(exc).__name__}: {exc} at {where.filename}:{where.lineno}"
        )
    else:
        outcome.loaded += 1
    if len(outcome.failures) > failures:
        kept.write_text(mutant.text, encoding="utf-8")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SHOWCALLER_* variables would be located in the environment."""
    for name in list(os.environ):
        if name.upper().startswith("SHOWCALLER_"):
            monkeypatch.delenv(name)


def test_every_broken_copy_of_the_example_loads_or_names_file_and_line(tmp_path: Path) -> None:
    outcome = Outcome()
    began = time.perf_counter()
    for case in range(CASES):
        _run_case(case, tmp_path, outcome)
    took = time.perf_counter() - began

    print(
        f"config fuzz: seed {SEED}, {CASES} cases in {took:.1f}s: {outcome.loaded} loaded, "
        f"{outcome.refused} refused ({outcome.not_toml} not TOML); mutations {dict(outcome.kinds)}"
    )
    if outcome.failures:
        shown = "\n".join(outcome.failures[:20])
        pytest.fail(
            f"CONFIG_FUZZ_SEED={SEED}: {len(outcome.failures)} of {CASES} cases went wrong "
            f"(the first 20):\n{shown}",
            pytrace=False,
        )
    # The fuzz is only worth its time if a good share of cases get past the TOML parser.
    assert outcome.refused - outcome.not_toml > CASES // 3, outcome
    assert outcome.loaded > 0, outcome


def test_the_mutations_are_seeded() -> None:
    assert mutate(EXAMPLE_TEXT, case_rng(1, 7)) == mutate(EXAMPLE_TEXT, case_rng(1, 7))
    assert mutate(EXAMPLE_TEXT, case_rng(1, 7)) != mutate(EXAMPLE_TEXT, case_rng(2, 7))
