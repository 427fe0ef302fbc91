"""Typed reads of a recipe's `[camera]` table, refusing unknown keys by name.

A typo in a camera option (`exposure_ms` for `exposure_us`) must not silently leave
the camera at its default: every key is checked against the source's list, and every
wrong value raises a StationError naming `[camera] <key>` and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from station.core.errors import StationError


class SourceOptions:
    """The `[camera]` options of one source kind, read with a type and a default each."""

    def __init__(self, kind: str, options: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.kind = kind
        self._options = {k: v for k, v in options.items() if k != "kind"}
        known = set(allowed)
        unknown = sorted(set(self._options) - known)
        if unknown:
            raise StationError(
                f"[camera] option {unknown[0]!r} is not known for kind {kind!r}; "
                f"expected some of: {', '.join(sorted(known))}"
            )

    def _fail(self, key: str, expected: str) -> StationError:
        return StationError(
            f"[camera] {key} = {self._options[key]!r} (kind {self.kind!r}): expected {expected}"
        )

    def has(self, key: str) -> bool:
        return self._options.get(key) is not None

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self._options.get(key, default)
        if value is None or isinstance(value, str):
            return value
        raise self._fail(key, "a string")

    def get_bool(self, key: str, default: bool) -> bool:
        value = self._options.get(key, default)
        if isinstance(value, bool):
            return value
        raise self._fail(key, "true or false")

    def get_int(self, key: str, default: int | None, *, minimum: int | None = None) -> int | None:
        value = self._options.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        if minimum is not None and value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value

    def get_float(
        self, key: str, default: float | None, *, minimum: float | None = None
    ) -> float | None:
        value = self._options.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self._fail(key, "a number")
        if minimum is not None and value < minimum:
            raise self._fail(key, f"a number >= {minimum}")
        return float(value)

    def get_choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        allowed = tuple(choices)
        value = self._options.get(key, default)
        if value in allowed:
            return str(value)
        raise self._fail(key, f"one of {', '.join(repr(c) for c in allowed)}")

    def get_region(self, key: str) -> tuple[int, int, int, int] | None:
        """`[x, y, width, height]` in sensor pixels; x, y >= 0 and width, height >= 1."""
        value = self._options.get(key)
        if value is None:
            return None
        ok = (
            isinstance(value, list | tuple)
            and len(value) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and value[0] >= 0
            and value[1] >= 0
            and value[2] >= 1
            and value[3] >= 1
        )
        if not ok:
            raise self._fail(key, "[x, y, width, height] integers, x, y >= 0, width, height >= 1")
        x, y, w, h = value
        return (x, y, w, h)
