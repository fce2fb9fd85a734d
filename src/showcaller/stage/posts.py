"""Post drafts for the live-tweeting host: the length as X counts it, and the share link.

X counts a post in *weighted* characters (twitter-text v3, at most 280): a character in
Latin, Cyrillic, Greek and the like, or in the general punctuation ranges, weighs 1;
any other character (CJK, kana, hangul, emoji, ...) weighs 2; a URL weighs 23 whatever
its length; the text is NFC-normalised first. An emoji with its variation selector,
skin tone or zero-width joins weighs 2 as a whole. Flags are counted as two emoji (4):
this may count a few rare emoji higher than X does, never lower, so a draft that fits
here fits there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

from showcaller.show.state import Post

MAX_WEIGHT = 280
URL_WEIGHT = 23
INTENT = "https://x.com/intent/post?text="
ELLIPSIS = "…"

# (first, last) code points that weigh 1; everything else weighs 2.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
# What X takes as a URL here: a scheme and the characters a URL may hold (ASCII only,
# so a Japanese sentence right after a URL is not counted as part of it).
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_JOINERS = frozenset({0xFE0F, 0x200D, 0x20E3}) | frozenset(range(0x1F3FB, 0x1F400))


def _weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT) else 2


def _text_weight(text: str) -> int:
    total = 0
    previous_joined = False  # the character before was a zero-width joiner
    cluster: list[int] = []

    def close() -> int:
        if not cluster:
            return 0
        if len(cluster) == 1:
            return _weight(cluster[0])
        return max(2, _weight(cluster[0]))

    for ch in text:
        cp = ord(ch)
        if cluster and (cp in _JOINERS or previous_joined):
            cluster.append(cp)
        else:
            total += close()
            cluster = [cp]
        previous_joined = cp == 0x200D
    return total + close()


def weighted_length(text: str) -> int:
    """The length of `text` as X counts it (280 at most fits one post)."""
    text = unicodedata.normalize("NFC", text)
    total, last = 0, 0
    for match in _URL.finditer(text):
        total += _text_weight(text[last : match.start()]) + URL_WEIGHT
        last = match.end()
    return total + _text_weight(text[last:])


def intent_url(text: str) -> str:
    """The link that opens X's post box with `text` in it (the host still presses Post)."""
    return INTENT + quote(text, safe="")


def fitted(render: Callable[[str], str], title: str) -> str:
    """`render(title)`, with the title cut (…) as far as needed to fit 280; then cut at the end."""
    text = render(title)
    cut = title
    while weighted_length(text) > MAX_WEIGHT and cut:
        cut = cut[:-1]
        text = render(cut.rstrip() + ELLIPSIS if cut else "")
    if weighted_length(text) > MAX_WEIGHT:  # the rest of a long template alone is too long
        while text and weighted_length(text + ELLIPSIS) > MAX_WEIGHT:
            text = text[:-1]
        text = text.rstrip() + ELLIPSIS
    return text


def make_post(text: str) -> Post:
    """A Post from a finished text."""
    return Post(text=text, weight=weighted_length(text), intent_url=intent_url(text))


__all__ = ["MAX_WEIGHT", "Post", "fitted", "intent_url", "make_post", "weighted_length"]
