"""How showcaller says counts and failures to a host or a speaker, in the event's language.

`plural(1, "warning")` is "1 warning", never "1 warnings". `failure(exc, language)` says
what a network or OS failure means in words ("the host name was not found"), never a
Python class name (`ClientConnectorDNSError`): a host at 20:58 cannot act on one.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Literal

Language = Literal["ja", "en"]


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and `word`, with the plural form when count is not 1 ("0 problems")."""
    if count == 1:
        return f"1 {word}"
    return f"{count} {many or word + 's'}"


_WORDS: dict[str, dict[Language, str]] = {
    "timeout": {"en": "no answer in time", "ja": "時間内に応答がありません"},
    "dns": {"en": "the host name was not found", "ja": "ホスト名が見つかりません"},
    "refused": {"en": "connection refused (nothing listens there)", "ja": "接続を拒否されました"},
    "reset": {"en": "the connection was cut", "ja": "接続が途中で切れました"},
    "tls": {
        "en": "the secure connection (TLS) failed",
        "ja": "安全な接続（TLS）を確立できませんでした",
    },
    "unreachable": {"en": "the network cannot reach it", "ja": "ネットワークから到達できません"},
    "bad_url": {"en": "not a link that can be opened", "ja": "開けるリンクの形ではありません"},
    "bad_answer": {"en": "the server answered garbled data", "ja": "サーバーの応答が壊れています"},
    "redirects": {"en": "too many redirects", "ja": "転送（リダイレクト）が多すぎます"},
    "network": {"en": "a network error", "ja": "通信エラー"},
}


def unexpected(exc: BaseException) -> str:
    """A failure showcaller did not expect, said without its class name: its own text, or
    the words for a network or OS failure."""
    import aiohttp  # here: the CLI imports this module, and must start quickly

    if isinstance(exc, aiohttp.ClientError | TimeoutError | ConnectionError | socket.gaierror):
        return failure(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc).strip()
    return f"unexpected failure: {text}" if text else "unexpected failure (no message)"


def failure(exc: BaseException, language: Language = "en") -> str:
    """What a network or OS failure means, in words (never an exception class name)."""
    return _WORDS[_kind(exc)][language]


def _kind(exc: BaseException) -> str:
    import aiohttp  # here: the CLI imports this module, and must start quickly

    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(exc, socket.gaierror):  # aiohttp's DNS error carries one as os_error
        return "dns"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _kind(exc.os_error)
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(
        exc,
        ConnectionResetError
        | ConnectionAbortedError
        | BrokenPipeError
        | aiohttp.ServerDisconnectedError,
    ):
        return "reset"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "redirects"
    # aiohttp names a link that is not http(s) NonHttpUrlClientError (3.10+): by its name,
    # as aiohttp 3.9 has no such class to test against.
    if isinstance(exc, aiohttp.InvalidURL | ValueError) or "UrlClientError" in type(exc).__name__:
        return "bad_url"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return "bad_answer"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return "network"


_LINK: dict[str, dict[Language, str]] = {
    "lost": {
        "ja": "OBS が応答しません — OBS の画面を確認してください（showcaller は待ち続けます）",
        "en": "OBS is not answering ({why}) — look at OBS; showcaller keeps trying",
    },
    "back": {
        "ja": "OBS がまた応答しています（{away} 秒ぶり）",
        "en": "OBS answers again (after {away} s)",
    },
}


def obs_link(key: Literal["lost", "back"], language: str, **values: object) -> str:
    """What the host is told when OBS stops answering ("lost") and answers again ("back")."""
    return _LINK[key]["ja" if language == "ja" else "en"].format(**values)


def in_room(title: str, room: str) -> str:
    """A title named with its room (`[hall-b] Title`) when a room is set, else as it is."""
    return f"[{room}] {title}" if room else title


__all__ = ["Language", "failure", "in_room", "obs_link", "plural", "unexpected"]
