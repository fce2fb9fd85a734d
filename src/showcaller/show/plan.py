"""The show's plan: the event resolved once per run into one immutable value.

`ShowPlan.of(cfg)` works out every slot's times, speakers and scene (`ResolvedSlot`,
aware datetimes in the event's zone) and the same slots in timetable seconds from the
plan's origin (`PlannedSlot`, what the pure timetable runs on), with the plan's hash
(a journal written for another plan is not resumed). The engine, the session and the
attachments read this value; nobody resolves the event a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from showcaller.config import EventConfig, ResolvedSlot, Speaker
from showcaller.show.timetable import PlannedSlot, plan_hash


@dataclass(frozen=True)
class ShowPlan:
    """One event's slots, resolved (wall clock) and planned (show seconds from `origin`)."""

    title: str
    language: str
    timezone: str
    slots: tuple[ResolvedSlot, ...]
    planned: tuple[PlannedSlot, ...]
    speakers: tuple[Speaker, ...]
    hash: str

    @classmethod
    def of(cls, cfg: EventConfig) -> ShowPlan:
        """The plan of an event (its config already checked by `load_config`)."""
        slots = tuple(cfg.slots_resolved())
        origin = slots[0].start
        planned = tuple(
            PlannedSlot(
                index=s.index,
                kind=s.kind,
                title=s.title,
                start=(s.start - origin).total_seconds(),
                end=(s.end - origin).total_seconds(),
                end_mode=s.end_mode,
                grace_s=s.grace_s,
                min_s=s.min_s,
                scene=s.scene,
                speakers=tuple(sp.id for sp in s.speakers),
            )
            for s in slots
        )
        return cls(
            title=cfg.event.title,
            language=cfg.event.language,
            timezone=cfg.event.timezone,
            slots=slots,
            planned=planned,
            speakers=tuple(cfg.speakers),
            hash=plan_hash(list(planned)),
        )

    @property
    def origin(self) -> datetime:
        """The first slot's planned start: show second 0."""
        return self.slots[0].start

    @property
    def end(self) -> datetime:
        """The last slot's planned end."""
        return self.slots[-1].end

    @property
    def tz(self) -> ZoneInfo:
        """The event's time zone."""
        return ZoneInfo(self.timezone)

    def slot(self, index: int) -> ResolvedSlot:
        """The slot with this index (0-based, as in the timetable and the JSON)."""
        return self.slots[index]


__all__ = ["ShowPlan"]
