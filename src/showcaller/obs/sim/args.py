"""requestData as a request handler sees it: `Args` checks each field with OBS's status
codes and comments; a `Handler` answers one request type; `handlers_of` lists a request
group's `handle_<RequestType>` methods as a dispatch table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from showcaller.obs.protocol import Status
from showcaller.obs.sim.model import JSON, RequestFailed


class Args:
    """requestData, checked field by field with OBS's status codes and comments."""

    def __init__(self, data: JSON | None) -> None:
        """Wrap requestData (None when the request had none)."""
        self.data = data

    def has(self, key: str) -> bool:
        """Whether the field is present and not null."""
        return self.data is not None and self.data.get(key) is not None

    def _need(self, key: str) -> Any:
        if self.data is None:
            raise RequestFailed(
                Status.MISSING_REQUEST_DATA, "Your request data is missing or invalid (non-object)"
            )
        if self.data.get(key) is None:
            raise RequestFailed(
                Status.MISSING_REQUEST_FIELD, f"Your request is missing the `{key}` field."
            )
        return self.data[key]

    def string(self, key: str, *, allow_empty: bool = False) -> str:
        """A required string field."""
        value = self._need(key)
        if not isinstance(value, str):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be a string."
            )
        if not value and not allow_empty:
            raise RequestFailed(
                Status.REQUEST_FIELD_EMPTY, f"The field value of `{key}` must not be empty."
            )
        return value

    def number(self, key: str, lo: float | None = None, hi: float | None = None) -> float:
        """A required number field within [lo, hi]."""
        value = self._need(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be a number."
            )
        if lo is not None and value < lo:
            raise RequestFailed(
                Status.REQUEST_FIELD_OUT_OF_RANGE,
                f"The field value of `{key}` is below the minimum of `{lo:f}`",
            )
        if hi is not None and value > hi:
            raise RequestFailed(
                Status.REQUEST_FIELD_OUT_OF_RANGE,
                f"The field value of `{key}` is above the maximum of `{hi:f}`",
            )
        return float(value)

    def boolean(self, key: str) -> bool:
        """A required boolean field."""
        value = self._need(key)
        if not isinstance(value, bool):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be boolean."
            )
        return value

    def obj(self, key: str, *, allow_empty: bool = True) -> JSON:
        """A required object field."""
        value = self._need(key)
        if not isinstance(value, dict):
            raise RequestFailed(
                Status.INVALID_REQUEST_FIELD_TYPE, f"The field value of `{key}` must be an object."
            )
        if not value and not allow_empty:
            raise RequestFailed(
                Status.REQUEST_FIELD_EMPTY, f"The field value of `{key}` must not be empty."
            )
        return value


Handler = Callable[[Args], Awaitable[JSON | None]]

_PREFIX = "handle_"


def handlers_of(group: object) -> dict[str, Handler]:
    """The request types `group` answers, each with its `handle_<RequestType>` method."""
    return {
        name.removeprefix(_PREFIX): getattr(group, name)
        for name in dir(group)
        if name.startswith(_PREFIX)
    }
