"""What a picture and a sound meter say, measured: pure functions, no OBS, no clock.

**Black**: the mean luma (Rec. 601) of a small screenshot, 0..255; below
`checks.black_threshold` × 255 the picture is black.

**Frozen** compares pixels, not hashes. A hash calls two frames of a still slide
different because of encoder noise, and a pixel-exact compare does the same. Here a
pixel has *moved* when its luma changed by more than `NOISE_LUMA` (encoder and scaler
noise stays well below); a picture is *live* when at least `MOVING_SHARE` of its pixels
moved between the first screenshot of the window and any later one. A speaker's camera
inset on a still slide moves far more pixels than that (an inset is ~10 % of the
frame), so slide + camera reads live; a frozen call, or a still slide with no camera,
reads unchanged — the hint says both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from showcaller.obs.images import Image

# A luma change larger than this (of 255) is real movement, not encoder noise.
NOISE_LUMA = 12
# The share of pixels that must move for a picture to count as live.
MOVING_SHARE = 0.005


def luma_plane(image: Image) -> bytes:
    """One byte of luma (Rec. 601) per pixel."""
    rgb = image.rgb
    return bytes(
        (299 * rgb[i] + 587 * rgb[i + 1] + 114 * rgb[i + 2]) // 1000 for i in range(0, len(rgb), 3)
    )


def mean_luma(image: Image) -> float:
    """The mean luma of the picture, 0..255."""
    plane = luma_plane(image)
    return sum(plane) / len(plane) if plane else 0.0


def moved_share(first: bytes, later: bytes) -> float:
    """The share of pixels whose luma changed by more than the noise between two planes."""
    if len(first) != len(later) or not first:
        return 1.0  # a change of size is a change
    moved = sum(1 for a, b in zip(first, later, strict=True) if abs(a - b) > NOISE_LUMA)
    return moved / len(first)


@dataclass(frozen=True)
class PictureVerdict:
    """What a series of screenshots says."""

    luma: float  # the mean luma of the last screenshot
    black: bool
    moved: float  # the largest share of pixels that moved against the first screenshot
    frozen: bool  # unchanged over the whole series (needs two screenshots or more)


def judge_picture(images: Sequence[Image], black_threshold: float) -> PictureVerdict:
    """Black (the last screenshot) and frozen (no movement over the series)."""
    if not images:
        raise ValueError("no screenshot to judge")
    luma = mean_luma(images[-1])
    first = luma_plane(images[0])
    moved = max((moved_share(first, luma_plane(i)) for i in images[1:]), default=0.0)
    black = luma < black_threshold * 255
    # A black picture is black, not frozen: one problem, the one to fix first.
    frozen = len(images) > 1 and not black and moved < MOVING_SHARE
    return PictureVerdict(luma=luma, black=black, moved=moved, frozen=frozen)


def dbfs(multiplier: float) -> float:
    """A linear level as dBFS (-inf for silence)."""
    return 20 * math.log10(multiplier) if multiplier > 0 else -math.inf


@dataclass(frozen=True)
class SoundVerdict:
    """What the meter readings of a window say."""

    peak_db: float  # the loudest peak, dBFS (-inf: no reading above zero)
    readings: int
    clipping_share: float  # the share of readings at or above the clipping level
    sound: bool
    clipping: bool


# Clipping for more than this share of a window is "clipping for long".
CLIPPING_SHARE = 0.2


def judge_sound(peaks_db: Iterable[float], silence_db: float, clipping_db: float) -> SoundVerdict:
    """Sound (a peak above the silence level) and clipping (peaks at the top, for long)."""
    peaks = list(peaks_db)
    loudest = max(peaks, default=-math.inf)
    clipped = sum(1 for p in peaks if p >= clipping_db)
    share = clipped / len(peaks) if peaks else 0.0
    return SoundVerdict(
        peak_db=loudest,
        readings=len(peaks),
        clipping_share=share,
        sound=loudest > silence_db,
        clipping=share > CLIPPING_SHARE,
    )


__all__ = [
    "MOVING_SHARE",
    "NOISE_LUMA",
    "PictureVerdict",
    "SoundVerdict",
    "dbfs",
    "judge_picture",
    "judge_sound",
    "luma_plane",
    "mean_luma",
    "moved_share",
]
