"""Synthetic speaker signals: a remote speaker's picture and sound, as OBS would see them.

A `VideoSignal` renders RGBA frames at any size for a moment in time; a live one has a
moving bar and a band of sensor noise, so two screenshots never match, a frozen one
repeats the frame it froze on, a black one is all zeros. An `AudioSignal` gives the
per-channel `[magnitude, peak, inputPeak]` triples that InputVolumeMeters carries.
"""

from __future__ import annotations

import math
import random
import zlib
from typing import Literal

VideoState = Literal["live", "black", "frozen", "offline"]
AudioState = Literal["speaking", "silent", "clipping"]

VIDEO_STATES: tuple[VideoState, ...] = ("live", "black", "frozen", "offline")
AUDIO_STATES: tuple[AudioState, ...] = ("speaking", "silent", "clipping")

# -20 dBFS speech with a talker's natural swing; -80 dBFS is a quiet room's noise floor.
SPEAKING_DB = -20.0
SILENT_DB = -80.0
CLIPPING_DB = -1.5


def _db_to_mul(db: float) -> float:
    return float(10.0 ** (db / 20.0))


class VideoSignal:
    """The picture of a speaker's feed; `frame()` is what a screenshot of it shows."""

    def __init__(self, name: str, state: VideoState = "live") -> None:
        """A feed for the input `name` (its colours derive from the name)."""
        self.name = name
        self._seed = zlib.crc32(name.encode())
        self.state: VideoState = state
        self._renders = 0
        self._frozen_on: tuple[float, int] = (0.0, 0)
        self._last_t = 0.0

    def set_state(self, state: VideoState) -> None:
        """Switch the feed; "frozen" keeps the last frame that was rendered."""
        if state == "frozen" and self.state != "frozen":
            self._frozen_on = (self._last_t, self._renders)
        self.state = state

    def frame(self, width: int, height: int, t: float) -> bytes:
        """RGBA rows, top to bottom, of the picture at show time `t` (seconds)."""
        if self.state == "black":
            return b"\x00\x00\x00\xff" * (width * height)
        if self.state == "offline":
            return bytes(width * height * 4)
        if self.state == "frozen":
            t, n = self._frozen_on
            return self._live(width, height, t, n)
        self._renders += 1
        self._last_t = t
        return self._live(width, height, t, self._renders)

    def _live(self, width: int, height: int, t: float, n: int) -> bytes:
        hue = (self._seed % 360) / 360.0
        base = [int(80 + 100 * abs(math.sin(math.pi * (hue + k / 3)))) for k in range(3)]
        top = bytearray(width * 4)
        bottom = bytearray(width * 4)
        for x in range(width):
            ramp = 50 * x // max(1, width - 1)
            for k in range(3):
                top[x * 4 + k] = min(255, base[k] + ramp)
                bottom[x * 4 + k] = max(0, base[k] - 40 + ramp // 2)
            top[x * 4 + 3] = bottom[x * 4 + 3] = 255
        bar_w = max(1, width // 8)
        x0 = int((t * 0.25) % 1.0 * width)
        for row in (top, bottom):
            for x in range(x0, x0 + bar_w):
                i = (x % width) * 4
                row[i : i + 3] = b"\xe6\xe6\xe6"
        noise_rows = min(height, max(1, height // 12))
        rng = random.Random(f"{self._seed}:{n}")
        noise = bytearray(rng.randbytes(width * 4 * noise_rows))
        noise[3::4] = b"\xff" * (width * noise_rows)
        top_rows = max(0, height // 2 - noise_rows)
        bottom_rows = height - noise_rows - top_rows
        return bytes(noise) + bytes(top) * top_rows + bytes(bottom) * bottom_rows


class AudioSignal:
    """The sound of a speaker's feed, as OBS's volume meter measures it."""

    def __init__(self, name: str, state: AudioState = "speaking") -> None:
        """A sound for the input `name`."""
        self.state: AudioState = state
        self._rng = random.Random(zlib.crc32(name.encode()))

    def levels(self, t: float, *, muted: bool, channels: int = 2) -> list[list[float]]:
        """`inputLevelsMul`: per channel [magnitude, peak, inputPeak] (linear, 0..1).

        Muted inputs read 0 after the fader but keep their input peak, as in OBS.
        """
        if self.state == "speaking":
            db = SPEAKING_DB + 5.0 * math.sin(2 * math.pi * 0.8 * t) + self._rng.uniform(-4, 4)
        elif self.state == "clipping":
            db = CLIPPING_DB + self._rng.uniform(0, 1.5)  # a microphone driven into the top
        else:
            db = SILENT_DB + self._rng.uniform(-3, 3)
        magnitude = _db_to_mul(db)
        peak = min(1.0, magnitude * 1.6)
        if muted:
            return [[0.0, 0.0, peak] for _ in range(channels)]
        return [[magnitude, peak, peak] for _ in range(channels)]
