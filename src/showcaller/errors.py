"""The one exception tree of showcaller.

ShowcallerError                 root; the CLI turns each into one line + hint + exit code
├── UsageError                  bad command line or bad command from a surface (exit 2)
├── ConfigError                 the event file is wrong; carries every located problem (exit 2)
└── OBSError                    anything about OBS
    ├── OBSConnectionError      cannot reach / lost OBS (exit 3)
    │   ├── ConnectTimeout      no answer within the connect timeout
    │   ├── ConnectionRefused   nothing listens at the address
    │   ├── NotOBSServer        something answered, but not obs-websocket v5
    │   ├── AuthenticationFailed wrong or missing password (close 4009); final, no retry
    │   ├── ConnectionClosed    the link dropped; pending requests fail with this at once
    │   └── RequestTimeout      OBS did not answer one request in time
    ├── OBSRequestError         OBS answered a request with a failure status (code, comment)
    │   ├── UnknownRequest (204), MissingField (300), InvalidField (400..404),
    │   ├── OutputRunning (500), OutputNotRunning (501), StudioModeNotActive (506), ...
    │   ├── ResourceNotFound (600), ResourceAlreadyExists (601), InvalidResourceType (602)
    │   └── InvalidResourceState (604)
    ├── MalformedResponse       OBS answered, but without a field we read (or of the wrong type)
    │   └── OBSProtocolError    the answer's frame itself breaks obs-websocket v5 (exit 3)
    └── GuardRefused            the mode forbids this verb (rehearsal never touches the stream)
"""

from __future__ import annotations

from dataclasses import dataclass

from showcaller.words import unexpected


class ShowcallerError(Exception):
    """Root of every error showcaller raises on purpose."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


class UsageError(ShowcallerError):
    """The command line, or a command sent by a surface, is wrong."""

    exit_code = 2


@dataclass(frozen=True)
class ConfigProblem:
    """One located problem in an event file."""

    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{field} {self.message}{hint}"


class ConfigError(ShowcallerError):
    """The event file has one or more problems; all of them are listed."""

    exit_code = 2

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid configuration"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class OBSError(ShowcallerError):
    """Anything that went wrong talking to OBS."""


class OBSConnectionError(OBSError):
    """OBS cannot be reached or the link was lost."""

    exit_code = 3


class ConnectTimeout(OBSConnectionError):
    """No answer from OBS within the connect timeout."""

    hint = "is OBS running and is the address right? (OBS: Tools > WebSocket Server Settings)"


class ConnectionRefused(OBSConnectionError):
    """Nothing listens at the OBS address."""

    hint = "start OBS and enable its WebSocket server (Tools > WebSocket Server Settings)"


class NotOBSServer(OBSConnectionError):
    """Something answered at the address, but it does not speak obs-websocket v5."""

    hint = "check the port: OBS's WebSocket server listens on 4455 by default"


class AuthenticationFailed(OBSConnectionError):
    """OBS refused the password (close code 4009). Retrying cannot help."""

    hint = "set the password in SHOWCALLER_OBS__PASSWORD (OBS: Tools > WebSocket Server Settings)"


class ConnectionClosed(OBSConnectionError):
    """The link to OBS dropped; requests in flight fail with this at once."""


class RequestTimeout(OBSConnectionError):
    """OBS did not answer one request within the request timeout."""


class OBSRequestError(OBSError):
    """OBS answered a request with a failure status; keeps OBS's code and comment."""

    def __init__(self, request_type: str, code: int, comment: str | None) -> None:
        self.request_type = request_type
        self.code = code
        self.comment = comment or ""
        text = f"OBS refused {request_type} (code {code})"
        if self.comment:
            text += f": {self.comment}"
        super().__init__(text)


class UnknownRequest(OBSRequestError):
    """204: this OBS does not know the request (older obs-websocket)."""


class MissingField(OBSRequestError):
    """300/301: a required request field is missing."""


class InvalidField(OBSRequestError):
    """400-404: a request field has a bad value or type."""


class OutputRunning(OBSRequestError):
    """500: the output (stream/record) is already running."""


class OutputNotRunning(OBSRequestError):
    """501: the output (stream/record) is not running."""


class OutputPaused(OBSRequestError):
    """502."""


class OutputNotPaused(OBSRequestError):
    """503."""


class OutputDisabled(OBSRequestError):
    """504."""


class StudioModeActive(OBSRequestError):
    """505."""


class StudioModeNotActive(OBSRequestError):
    """506: the request needs studio mode."""


class ResourceNotFound(OBSRequestError):
    """600: no scene/input/source of that name."""


class ResourceAlreadyExists(OBSRequestError):
    """601: a scene/input of that name exists already."""


class InvalidResourceType(OBSRequestError):
    """602: the resource is of the wrong type (e.g. an input where a scene was expected)."""


class InvalidResourceState(OBSRequestError):
    """604: the resource is in a state that forbids the request."""


class MalformedResponse(OBSError):
    """OBS answered a request without a field showcaller reads, or with one of the wrong type."""

    hint = "this OBS answers unlike obs-websocket 5.x; `showcaller doctor` shows its versions"

    def __init__(self, request_type: str, problem: str) -> None:
        self.request_type = request_type
        super().__init__(f"OBS answered {request_type} {problem}")


class OBSProtocolError(MalformedResponse):
    """The frame answering one request breaks obs-websocket v5 (a status missing, results
    not a list, a batch answered as one request); that request fails, the link stays up."""

    exit_code = 3
    hint = "is this address really OBS's WebSocket server (obs-websocket 5.x)?"


class GuardRefused(OBSError):
    """The current mode forbids this verb (e.g. rehearsal never starts or stops the stream)."""

    exit_code = 1


def describe(exc: BaseException) -> str:
    """One line for a failure: a ShowcallerError says what it is; anything else in words
    (`words.unexpected`: never a class name a host cannot act on)."""
    text = str(exc)
    if isinstance(exc, ShowcallerError) and text:
        return text
    return unexpected(exc)
