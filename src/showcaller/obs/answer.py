"""One answer of OBS read field by field: a missing or mistyped field is MalformedResponse.

Shared by the gateway and its scene-building verbs (`items`), below both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from showcaller import errors

_MISSING: Any = object()


class Answer:
    """One answer of OBS, read field by field: a missing or mistyped field is MalformedResponse.

    A field read with a default may be absent or null.
    """

    def __init__(self, request_type: str, data: object, where: str = "") -> None:
        self.request_type = request_type
        self._where = where
        if not isinstance(data, Mapping):
            raise self.malformed(f"with {where.rstrip('.') or 'responseData'} not an object")
        self._data: Mapping[str, Any] = data

    def malformed(self, problem: str) -> errors.MalformedResponse:
        return errors.MalformedResponse(self.request_type, problem)

    def _get(self, key: str, ok: Callable[[Any], bool], what: str, default: Any) -> Any:
        value = self._data.get(key)
        if value is None and default is not _MISSING:
            return default
        if key not in self._data:
            raise self.malformed(f"without {self._where}{key}")
        if not ok(value):
            raise self.malformed(f"with {self._where}{key} = {value!r:.60} (not {what})")
        return value

    def text(self, key: str, default: str = _MISSING) -> str:
        return str(self._get(key, lambda v: isinstance(v, str), "a string", default))

    def flag(self, key: str, default: bool = _MISSING) -> bool:
        return bool(self._get(key, lambda v: isinstance(v, bool), "true or false", default))

    def number(self, key: str, default: float = _MISSING) -> float:
        return float(self._get(key, _is_number, "a number", default))

    def integer(self, key: str, default: int = _MISSING) -> int:
        return int(self._get(key, _is_integer, "an integer", default))

    def optional_integer(self, key: str) -> int | None:
        value = self._get(key, _is_integer, "an integer", None)
        return None if value is None else int(value)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self._get(key, _is_list, "a list", [])
        if not all(isinstance(v, str) for v in values):
            raise self.malformed(f"with {self._where}{key} not a list of strings")
        return tuple(values)

    def mapping(self, key: str, default: Mapping[str, Any] = _MISSING) -> dict[str, Any]:
        return dict(self._get(key, lambda v: isinstance(v, Mapping), "an object", default))

    def objects(self, key: str, default: list[Any] = _MISSING) -> list[Answer]:
        values = self._get(key, _is_list, "a list", default)
        return [
            Answer(self.request_type, v, f"{self._where}{key}[{i}].") for i, v in enumerate(values)
        ]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    # OBS writes some counters as doubles (1.0); a fraction is no integer.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_list(value: object) -> bool:
    return isinstance(value, list)


__all__ = ["Answer"]
