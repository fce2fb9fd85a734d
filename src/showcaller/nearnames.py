""" "Did you mean …?" for a scene or input name OBS lacks: the nearest name OBS has.

Names are compared the way a host mistypes them: case, full-width and half-width forms
(Unicode NFKC: "Ｔａｌｋ" is "Talk", "ｶﾒﾗ" is "カメラ"), spaces, and a few typos
(edit distance, scaled to the name's length). Japanese names work the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(name: str) -> str:
    """A name as compared: NFKC, case-folded, without spaces, dashes or underscores."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_・")


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, replace: one each)."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def nearest(name: str, names: Iterable[str]) -> str | None:
    """The name of `names` a host most likely meant by `name`, or None if none is near."""
    want = fold(name)
    if not want:
        return None
    best: tuple[int, str] | None = None
    # One typo per four characters, at least one; a short name gets no more than one.
    allowed = max(1, len(want) // 4)
    for candidate in names:
        if candidate == name:
            continue
        got = fold(candidate)
        if _digits(got) != _digits(want):
            continue  # "Speaker 2 Video" is another speaker's, not a typo of "Speaker 1 Video"
        score = 0 if got == want else distance(got, want)
        if score <= allowed and (best is None or score < best[0]):
            best = (score, candidate)
    return best[1] if best else None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


__all__ = ["distance", "fold", "nearest"]
