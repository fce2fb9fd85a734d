"""The MC's cue cards: what the host says as each slot starts and ends, and the post draft.

Pure: a card is made from the config (templates, speakers, sponsors) and a slot's times.
On air the times are the show state's *expected* ones (`cards_view(cfg, show)`), so a
break's "we resume at 20:17" follows a hold or an extension; `showcaller cards` uses the
planned times (`planned_cards`). Which template, first found:

    the slot's own intro / outro / post  >  [cards.<kind>] / [posts]  >  built-in (cardtexts)

Templates and placeholders: `config.templates` (docs/cards.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from showcaller.config import KIND_TITLES, EventConfig, ResolvedSlot, Speaker
from showcaller.config.templates import fill
from showcaller.show.state import Card, CardsView, Post, ShowState, SlotView
from showcaller.stage.cardtexts import CARDS, LABELS, POSTS
from showcaller.stage.posts import fitted, make_post
from showcaller.words import in_room


@dataclass(frozen=True)
class _Times:
    """When a slot runs and what follows it."""

    start: datetime
    end: datetime
    following: int | None  # the index of the slot after it (skipped ones left out)
    resume: datetime | None  # when that slot starts


def _join(items: Sequence[str], language: str) -> str:
    items = [i for i in items if i]
    if language == "ja" or len(items) < 3:
        return ("、" if language == "ja" else " and ").join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _spaced(word: str) -> str:
    """A Latin word before Japanese gets a space, as in "Example AI Lab の佐藤さん"."""
    return word + " " if word[-1:].isascii() and word[-1:].isalnum() else word


def _people(speakers: Sequence[Speaker], language: str) -> dict[str, str]:
    if language == "ja":

        def san(s: Speaker) -> str:
            return _spaced(s.name) + "さん"

        def who(s: Speaker) -> str:
            if not s.affiliation:
                return san(s)
            space = " " if s.name[:1].isascii() and s.name[:1].isalnum() else ""
            return f"{_spaced(s.affiliation)}の{space}{san(s)}"

        def with_handle(s: Speaker) -> str:
            return f"{san(s)}（{s.handle}）" if s.handle else san(s)

    else:

        def san(s: Speaker) -> str:
            return s.name

        def who(s: Speaker) -> str:
            return f"{s.name} ({s.affiliation})" if s.affiliation else s.name

        def with_handle(s: Speaker) -> str:
            return f"{s.name} ({s.handle})" if s.handle else s.name

    return {
        "speaker": _join([san(s) for s in speakers], language),
        "name": _join([s.name for s in speakers], language),
        "who": _join([who(s) for s in speakers], language),
        "affiliation": _join(list(dict.fromkeys(s.affiliation for s in speakers)), language),
        "handle": " ".join(s.handle for s in speakers if s.handle),
        "speaker_handle": _join([with_handle(s) for s in speakers], language),
    }


def _on_stage(plan: Sequence[ResolvedSlot]) -> list[Speaker]:
    """Every speaker on a slot of the evening, in the order they first appear."""
    seen: dict[str, Speaker] = {}
    for slot in plan:
        for speaker in slot.speakers:
            seen.setdefault(speaker.id, speaker)
    return list(seen.values())


def _sama(name: str, language: str) -> str:
    return _spaced(name) + "様" if language == "ja" else name


def _hm(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M") if moment is not None else ""


def _values(cfg: EventConfig, slot: ResolvedSlot, times: _Times) -> dict[str, str]:
    event, language, tz = cfg.event, cfg.event.language, cfg.tz
    plan = cfg.slots_resolved()
    values = {
        "event": event.title,
        "hashtag": event.hashtag,
        "url": event.url,
        "survey_url": event.survey_url,
        "next_event": event.next_event,
        "sponsors": _join([_sama(s.name, language) for s in cfg.sponsors], language),
        "speakers": _people(_on_stage(plan), language)["speaker"],
        "title": slot.title,
        "kind": KIND_TITLES[language][slot.kind],
        "start": _hm(times.start, tz),
        "end": _hm(times.end, tz),
        "minutes": str(max(0, round((times.end - times.start).total_seconds() / 60))),
        "resume": _hm(times.resume, tz),
        **_people(slot.speakers, language),
        "next_title": "",
        "next_who": "",
    }
    if times.following is not None:
        following = plan[times.following]
        values["next_title"] = following.title
        values["next_who"] = _people(following.speakers, language)["who"]
    return values


def _card(cfg: EventConfig, slot: ResolvedSlot, times: _Times) -> Card:
    language = cfg.event.language
    raw = cfg.timetable.slots[slot.index]
    kind_text = cfg.cards.for_kind(slot.kind)
    built_in = CARDS[language][slot.kind]
    intro = raw.intro if raw.intro is not None else kind_text.intro
    outro = raw.outro if raw.outro is not None else kind_text.outro
    values = _values(cfg, slot, times)
    return Card(
        index=slot.index,
        kind=slot.kind,
        title=slot.title,
        start=values["start"],
        intro=fill(intro if intro is not None else built_in[0], values),
        outro=fill(outro if outro is not None else built_in[1], values),
        post=_post(cfg, slot, values),
    )


def _post(cfg: EventConfig, slot: ResolvedSlot, values: dict[str, str]) -> Post | None:
    template = cfg.timetable.slots[slot.index].post
    if template is None and slot.kind in ("talk", "lt"):
        configured = cfg.posts.talk if slot.kind == "talk" else cfg.posts.lt
        template = configured if configured is not None else POSTS[cfg.event.language][slot.kind]
    if template is None:
        return None
    text = fitted(lambda title: fill(template, {**values, "title": title}), values["title"])
    return make_post(text) if text else None


# ------------------------------------------------------------------------ on air


def _view_times(show: ShowState, view: SlotView) -> _Times:
    later = [v for v in show.slots if v.index > view.index and v.state not in ("skipped", "done")]
    following = later[0] if later else None
    return _Times(
        start=datetime.fromisoformat(view.expected_start or view.planned_start),
        end=datetime.fromisoformat(view.expected_end or view.planned_end),
        following=following.index if following is not None else None,
        resume=datetime.fromisoformat(following.expected_start or following.planned_start)
        if following is not None
        else None,
    )


class CueCards:
    """The cards of one running show, each made once per slot and times (cheap to ask)."""

    _KEEP = 64  # cards kept; a show asks for two per state, and times change rarely

    def __init__(self, cfg: EventConfig) -> None:
        self.cfg = cfg
        self._made: dict[tuple[int, _Times], Card] = {}

    def card(self, show: ShowState, view: SlotView | None) -> Card | None:
        """The card of `view` at its expected times in `show`."""
        if view is None or view.index >= len(self.cfg.timetable.slots):
            return None
        key = (view.index, _view_times(show, view))
        made = self._made.get(key)
        if made is None:
            if len(self._made) >= self._KEEP:
                self._made.clear()
            made = self._made[key] = _card(self.cfg, self.cfg.slots_resolved()[view.index], key[1])
        return made

    def view(self, show: ShowState) -> CardsView:
        """The cards of the slot on air and the next slot."""
        return CardsView(on_air=self.card(show, show.on_air), next=self.card(show, show.next))


def cards_view(cfg: EventConfig, show: ShowState) -> CardsView:
    """The cards of the slot on air and the next slot, at their expected times."""
    return CueCards(cfg).view(show)


# ------------------------------------------------------------------------ planned


def planned_cards(cfg: EventConfig) -> list[Card]:
    """Every slot's card at its planned times (what `showcaller cards` prints)."""
    plan = cfg.slots_resolved()
    cards = []
    for slot in plan:
        following = plan[slot.index + 1] if slot.index + 1 < len(plan) else None
        times = _Times(
            start=slot.start,
            end=slot.end,
            following=following.index if following else None,
            resume=following.start if following else None,
        )
        cards.append(_card(cfg, slot, times))
    return cards


def _quote(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if lines:
            lines.append(">")
        lines.append(f"> {line}")
    return lines


def cards_markdown(cfg: EventConfig) -> str:
    """The evening's cue cards as Markdown, for the host to read through the day before."""
    language = cfg.event.language
    labels = LABELS[language]
    event = cfg.event
    head = " · ".join(
        part for part in (event.date.isoformat(), event.timezone, event.hashtag) if part
    )
    title = in_room(event.title, event.room)
    out = [f"# {title} — {labels['cards']}", "", f"{head} · {labels['planned']}", ""]
    for card in planned_cards(cfg):
        slot = cfg.slots_resolved()[card.index]
        who = _people(slot.speakers, language)["name"]
        kind = KIND_TITLES[language][card.kind]
        title = "" if card.title == kind else f" — {card.title}"
        if who:
            title += f"（{who}）" if language == "ja" else f" ({who})"
        out += [f"## {card.index + 1}. {card.start} {kind}{title}", ""]
        if not (card.intro or card.outro or card.post):
            out += [labels["nothing"], ""]
        for part in ("intro", "outro"):
            text = getattr(card, part)
            if text:
                out += [f"**{labels[part]}**", "", *_quote(text), ""]
        if card.post is not None:
            out += [f"**{labels['post']}** ({card.post.weight}/280)", "", "```text"]
            out += [card.post.text, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


__all__ = ["Card", "CardsView", "CueCards", "cards_markdown", "cards_view", "planned_cards"]
