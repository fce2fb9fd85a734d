"""The `plan` journal record: the resolved plan, so exports read the journal alone.

Written by the engine right after each `start` record (a resumed show writes it again).
Times are show seconds from the plan's origin (the first slot's planned start) and the
wall-clock ISO time in the event's zone; speakers carry id, name and handle.
"""

from __future__ import annotations

from typing import Any

from showcaller.config import EventConfig
from showcaller.show.plan import ShowPlan

# Bumped when a field changes meaning; fields are only ever added.
PLAN_FORMAT = 1


def plan_record(cfg: EventConfig, plan: ShowPlan, *, room: str = "") -> dict[str, Any]:
    """The fields of a `plan` record for this event and its plan (the engine adds the speed).

    `room`: the room's name when one process runs several (default: `[event] room`)."""
    origin = plan.origin
    resolved = plan.slots
    event = cfg.event
    return {
        "plan_format": PLAN_FORMAT,
        "event": {
            "title": event.title,
            "timezone": event.timezone,
            "language": event.language,
            "hashtag": event.hashtag,
            "url": event.url,
            "date": event.date.isoformat(),
            "room": room or event.room,
        },
        "record": {"enabled": cfg.record.enabled, "per_talk": cfg.record.per_talk},
        "stream_before_s": cfg.stream.start_before_standby.total_seconds(),
        "slots": [
            {
                "index": s.index,
                "kind": s.kind,
                "title": s.title,
                "speakers": [
                    {"id": sp.id, "name": sp.name, "handle": sp.handle} for sp in s.speakers
                ],
                "scene": s.scene,
                "start": (s.start - origin).total_seconds(),
                "end": (s.end - origin).total_seconds(),
                "start_wall": s.start.astimezone(cfg.tz).isoformat(),
                "end_wall": s.end.astimezone(cfg.tz).isoformat(),
                "end_mode": s.end_mode,
                "grace_s": s.grace_s,
            }
            for s in resolved
        ],
    }


__all__ = ["PLAN_FORMAT", "plan_record"]
