"""The MC's cue cards on the terminal dashboard: a few lines under the next slot.

Pure (state in, lines out), like the rest of `dashboard.render`. Each part of a card is
its sentences joined and *wrapped* (never cut while its lines fit): the MC reads it
aloud, so a cut-off handle or title is a mistake on air. The part the MC says next gets
its lines first: in a slot's first minute its intro, afterwards the next slot's intro
(the slot's own outro is short and comes first). On an 80×24 terminal two parts (what
to say now, then the next slot's intro); from 12 free lines the intro and the outro
both, from 16 also the post draft. The whole cards are on /control and in
`showcaller cards`.
"""

from __future__ import annotations

import re
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from showcaller.show.state import Card, CardsView, ShowState

# For this long after a slot went on air, its intro is what the MC says now.
INTRO_S = 60.0
# The label column: "MC start ", "   at end ", "     next ".
LABEL_W = 10


def card_rows(flex: int) -> int:
    """How many parts of the cards are shown out of `flex` lines shared with the others."""
    if flex >= 16:
        return 4  # intro, outro, the next slot's intro, the post draft
    if flex >= 12:
        return 3
    if flex >= 5:
        return 2  # what to say now (intro, then outro), and the next slot's intro
    return 0


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


# A line never starts with these (closing marks) nor ends with the opening ones.
_NO_START = set("、。，．,.!?！？」』）)]］】〕・ー…ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ")
_NO_END = set("「『（([［【〔")
_TOKEN = re.compile(r"\s+|[\x21-\x7e\u00a0-\u024f]+|.", re.S)


def wrap_cells(text: str, width: int) -> list[int]:
    """Where to break `text` into lines of at most `width` cells: Latin words stay whole
    (folded only when longer than a line), Japanese breaks between any two characters
    but a closing mark never starts a line. Returns the offsets of the breaks."""
    breaks: list[int] = []
    used = 0
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
    i = 0
    while i < len(tokens):
        start, token = tokens[i]
        size = cell_len(token)
        if token.isspace():
            used += size
            i += 1
            continue
        if used + size <= width or (used == 0 and size <= width):
            used += size
            i += 1
            continue
        if used == 0:  # a word longer than the line: folded where it must
            cut, cells = 0, 0
            while cut < len(token) and cells + cell_len(token[cut]) <= width:
                cells += cell_len(token[cut])
                cut += 1
            cut = max(cut, 1)
            breaks.append(start + cut)
            tokens[i] = (start + cut, token[cut:])
            continue
        at = i
        # Keep a closing mark with the character before it, an opening one with the next.
        while at > 0 and tokens[at][1][0] in _NO_START and not tokens[at - 1][1].isspace():
            at -= 1
        while at > 0 and tokens[at - 1][1][-1] in _NO_END:
            at -= 1
        if at == 0 or tokens[at][0] <= (breaks[-1] if breaks else 0):
            at = i
        breaks.append(tokens[at][0])
        used = 0
        i = at
        # The spaces a line would start with are dropped (they stay at the end of the last).
        while i < len(tokens) and tokens[i][1].isspace():
            i += 1
    return breaks


def _wrapped(label: str, card: Card | None, text: str, style: str, width: int) -> list[Text]:
    """One part: the label, then its text wrapped under itself (Japanese breaks anywhere)."""
    body = Text.assemble(
        (f"#{card.index + 1} " if card is not None else "", "dim"),
        (text or "—", style if text else "dim"),
    )
    room = max(1, width - LABEL_W)
    lines = body.divide(wrap_cells(body.plain, room))
    out = []
    for i, line in enumerate(lines):
        line.rstrip()
        line.truncate(room, overflow="ellipsis")
        head = Text(f"{label:>9} " if i == 0 else " " * LABEL_W, style="bold magenta")
        out.append(Text.assemble(head, line, no_wrap=True, overflow="ellipsis"))
    return out


def _just_started(show: ShowState, now: datetime) -> bool:
    slot = show.on_air
    if slot is None or not slot.expected_start:
        return False
    return (now - datetime.fromisoformat(slot.expected_start)).total_seconds() < INTRO_S


def _fit(parts: list[list[Text]], first: int, budget: int, width: int) -> list[Text]:
    """Each part whole if the budget allows; `first` (the one said next) is served first,
    the others get what is left (at least one line each, cut with an ellipsis)."""
    give = [1] * len(parts)
    left = budget - len(parts)
    for i in [first, *(j for j in range(len(parts)) if j != first)]:
        more = min(max(0, left), len(parts[i]) - 1)
        give[i] += more
        left -= more
    lines: list[Text] = []
    for part, rows in zip(parts, give, strict=True):
        shown = part[:rows]
        if len(part) > rows:
            last = shown[-1].copy()
            last.append(" …")
            last.truncate(width, overflow="ellipsis")
            shown[-1] = last
        lines.extend(shown)
    return lines


def card_lines(
    cards: CardsView | None,
    show: ShowState,
    now: datetime,
    rows: int,
    width: int,
    budget: int | None = None,
) -> list[Text]:
    """The MC's cards at `now`: `rows` parts, wrapped in at most `budget` lines (default:
    one line a part), each line at most `width` cells."""
    if rows <= 0:
        return []
    on_air = cards.on_air if cards is not None else None
    nxt = cards.next if cards is not None else None

    def part(label: str, card: Card | None, text: str, style: str) -> list[Text]:
        return _wrapped(label, card, text, style, width)

    intro = part("MC start", on_air, _one_line(on_air.intro) if on_air else "", "bold")
    outro = part("at end", on_air, _one_line(on_air.outro) if on_air else "", "bold")
    upcoming = part("next", nxt, _one_line(nxt.intro) if nxt else "", "italic")
    started = _just_started(show, now)
    if rows == 2:
        now_part = intro if started or not (on_air and on_air.outro) else outro
        parts = [now_part, upcoming]
        first = 0 if started else 1
    else:
        parts = [intro, outro, upcoming][:rows]
        first = 0 if started else min(2, rows - 1)
    if rows >= 4:
        post = on_air.post if on_air is not None and on_air.post is not None else None
        post = post or (nxt.post if nxt is not None else None)
        text = f"({post.weight}/280) {_one_line(post.text)}" if post is not None else ""
        parts.append(part("post", None, text, "cyan"))
    return _fit(parts, first, max(budget or 0, len(parts)), width)


__all__ = ["INTRO_S", "LABEL_W", "card_lines", "card_rows", "wrap_cells"]
