"""Show time: the plan's seconds mapped onto the injected clock.

The timetable counts seconds from the plan's origin (the planned start of its
first slot, an aware wall-clock time). `ShowTime` anchors that once to the clock's
monotonic time, so deadlines never drift, and re-anchors when it sees the wall
clock jump (NTP step, laptop sleep), because the plan is written in wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from showcaller.clock import Clock

# A wall clock that disagrees with the monotonic anchor by more than this has jumped.
JUMP_TOLERANCE_S = 0.5


@dataclass(frozen=True)
class Jump:
    """A detected wall-clock jump: how far (seconds, + forward) and the new anchor."""

    seconds: float
    show_seconds: float


class ShowTime:
    """Converts between show seconds, monotonic deadlines and wall-clock times."""

    def __init__(self, clock: Clock, origin: datetime) -> None:
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        self.clock = clock
        self.origin = origin
        self._anchor()

    def _anchor(self) -> None:
        self._mono0 = self.clock.monotonic()
        self._show0 = (self.clock.now() - self.origin).total_seconds()

    def now(self) -> float:
        """Show seconds now (negative before the plan's origin)."""
        return self._show0 + (self.clock.monotonic() - self._mono0)

    def monotonic_for(self, show_seconds: float) -> float:
        """The clock's monotonic time at which `show_seconds` comes."""
        return self._mono0 + (show_seconds - self._show0)

    def wall(self, show_seconds: float) -> datetime:
        """The wall-clock time of `show_seconds`."""
        return self.origin + timedelta(seconds=show_seconds)

    def check_jump(self) -> Jump | None:
        """Re-anchor and report when the wall clock moved away from the monotonic clock."""
        expected = self.now()
        actual = (self.clock.now() - self.origin).total_seconds()
        if abs(actual - expected) <= JUMP_TOLERANCE_S:
            return None
        self._anchor()
        return Jump(seconds=actual - expected, show_seconds=self._show0)
