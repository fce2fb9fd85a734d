"""What a speaker check found, as the session state and the surfaces show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Part = Literal["video", "audio", "slides"]
Verdict = Literal["pass", "warn", "fail", "not checked", "checking"]


@dataclass(frozen=True)
class CheckResult:
    """One part (video, audio, slides) of one speaker's check.

    `value` is what was measured ("luma 3/255", "peak -62 dBFS", "unchanged for 8 s");
    `hint` says in plain words, in the event's language, what to do about a failure.
    """

    speaker: str  # the speaker's id
    name: str  # the speaker's name, as the lower third shows it
    part: Part
    verdict: Verdict
    value: str = ""
    hint: str = ""
    at: str = ""  # wall-clock ISO time of the measurement

    @property
    def failed(self) -> bool:
        """A failure (a warning is not one)."""
        return self.verdict == "fail"


__all__ = ["CheckResult", "Part", "Verdict"]
