"""The MC's cue cards on the terminal dashboard: a few lines under the next slot.

Pure (state in, lines out), like the rest of `dashboard.render`. Each line is one part of
a card, its sentences joined, cut to the width: the slot on air's intro and outro (on an
80×24 terminal one line: the intro for its first minute, then the outro), the next
slot's intro and, on a tall terminal, the post draft. The whole cards are on the
/control page and in `showcaller cards`.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from showcaller.show.state import Card, CardsView, ShowState

# For this long after a slot went on air, its intro is what the MC says now.
INTRO_S = 60.0


def card_rows(flex: int) -> int:
    """How many lines the cards get out of `flex` lines shared with the table and messages."""
    if flex >= 16:
        return 4  # intro, outro, the next slot's intro, the post draft
    if flex >= 12:
        return 3
    if flex >= 8:
        return 2  # what to say now (intro, then outro), and the next slot's intro
    return 0


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _row(label: str, card: Card | None, text: str, style: str = "") -> Text:
    return Text.assemble(
        (f"{label:>9} ", "bold magenta"),
        (f"#{card.index + 1} " if card is not None else "", "dim"),
        (text or "—", style if text else "dim"),
        no_wrap=True,
        overflow="ellipsis",
    )


def _just_started(show: ShowState, now: datetime) -> bool:
    slot = show.on_air
    if slot is None or not slot.expected_start:
        return False
    return (now - datetime.fromisoformat(slot.expected_start)).total_seconds() < INTRO_S


def card_lines(
    cards: CardsView | None, show: ShowState, now: datetime, rows: int, width: int
) -> list[Text]:
    """Up to `rows` lines of the MC's cards at `now`, each at most `width` cells."""
    if rows <= 0:
        return []
    on_air = cards.on_air if cards is not None else None
    nxt = cards.next if cards is not None else None
    intro = _row("MC start", on_air, _one_line(on_air.intro) if on_air else "", "bold")
    outro = _row("at end", on_air, _one_line(on_air.outro) if on_air else "", "bold")
    upcoming = _row("next", nxt, _one_line(nxt.intro) if nxt else "", "italic")
    if rows == 2:
        now_line = intro if _just_started(show, now) or not (on_air and on_air.outro) else outro
        lines = [now_line, upcoming]
    else:
        lines = [intro, outro, upcoming]
    post = on_air.post if on_air is not None and on_air.post is not None else None
    post = post or (nxt.post if nxt is not None else None)
    if rows >= 4:
        text = f"({post.weight}/280) {_one_line(post.text)}" if post is not None else ""
        lines.append(_row("post", None, text, "cyan"))
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines[:rows]


__all__ = ["INTRO_S", "card_lines", "card_rows"]
