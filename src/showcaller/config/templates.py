"""Texts the host reads or posts, written as `string.Template` templates: `${speaker}`.

`string.Template` (not `str.format`): a template only names values, it can neither reach
an attribute (`{x.__class__}`) nor format one, so a config file cannot make showcaller
print anything but the values listed in `PLACEHOLDERS`. A template naming any other
value is a config error at load time (with its file, line and field); `$$` is a dollar.

A template is read line by line: **a line naming a placeholder that is empty for this
slot is left out** (no survey URL: no survey line), so one template serves every event.
"""

from __future__ import annotations

import difflib
from string import Template
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# Every value a card or post template may name, and what it is (docs/cards.md lists these).
PLACEHOLDERS: dict[str, str] = {
    "event": "the event's title",
    "hashtag": "event.hashtag",
    "url": "event.url, the event page",
    "survey_url": "event.survey_url",
    "next_event": "event.next_event",
    "sponsors": "every [[sponsors]] name (ja: with 様)",
    "speakers": "every speaker of the evening (ja: with さん)",
    "title": "the slot's title",
    "kind": "the slot's kind, in event.language",
    "start": "the slot's start, HH:MM (expected on air, planned in `showcaller cards`)",
    "end": "the slot's end, HH:MM",
    "minutes": "the slot's length in minutes",
    "resume": "when the next slot starts, HH:MM (a break: when the show resumes)",
    "speaker": "the slot's speakers as the MC addresses them (ja: 佐藤 花子さん)",
    "name": "the slot's speakers' plain names",
    "who": "the speakers with their affiliation (ja: Example AI Labの佐藤 花子さん)",
    "affiliation": "the speakers' affiliations",
    "handle": "the speakers' handles (@hanako_ml)",
    "speaker_handle": "the speakers with their handle (ja: 佐藤 花子さん（@hanako_ml）)",
    "next_title": "the next slot's title",
    "next_who": "the next slot's speakers with their affiliation",
}


def template_problem(text: str) -> tuple[str, str] | None:
    """What is wrong with template `text` (message, hint), or None when it is good."""
    template = Template(text)
    if not template.is_valid():
        return (
            "a $ that starts no placeholder",
            "write ${name} for a placeholder and $$ for a dollar sign",
        )
    for name in template.get_identifiers():
        if name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
            hint = (
                f"did you mean ${{{close[0]}}}?"
                if close
                else "known placeholders: " + ", ".join(PLACEHOLDERS)
            )
            return f"unknown placeholder ${{{name}}}", hint
    return None


def _check(text: str) -> str:
    problem = template_problem(text)
    if problem is not None:
        message, hint = problem
        raise PydanticCustomError("template", message, {"hint": hint})
    return text


TemplateText = Annotated[str, AfterValidator(_check)]
"""A card or post template: `${placeholder}`s from PLACEHOLDERS, checked at load time."""


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with its placeholders filled; lines naming an empty value are left out."""
    lines = []
    for line in text.splitlines():
        template = Template(line)
        if any(not values.get(name, "") for name in template.get_identifiers()):
            continue
        filled = template.safe_substitute(values).strip()
        if filled:
            lines.append(filled)
    return "\n".join(lines)


__all__ = ["PLACEHOLDERS", "TemplateText", "fill", "template_problem"]
