"""Typed access to one recipe's TOML tables: every refusal names the file and the field.

A value of the wrong type, out of range, or an empty string where a name is
needed is refused in one line (`<file>: <table>.<key>: expected …, got …`),
never replaced by a default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.core.errors import StationError


class RecipeFields:
    """Typed access to one recipe's tables; errors name the file and the dotted field."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, name: str, expected: str, got: object = ...) -> StationError:
        tail = "" if got is ... else f", got {got!r}"
        return StationError(f"{self.path}: {name}: expected {expected}{tail}")

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(f"[{name}]", "a table", value)
        return value

    def get(
        self, table: str, key: str, kind: type | tuple[type, ...], expected: str, default: Any
    ) -> Any:
        value = self.table(table).get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(f"{table}.{key}", expected, value)
        if not isinstance(value, kind):
            raise self.fail(f"{table}.{key}", expected, value)
        return value

    def text(self, table: str, key: str, default: str | None, empty_ok: bool = False) -> str | None:
        """A string; "" is refused (it would silently mean the default: `camera.kind = ""`
        would inspect the synthetic line) unless `empty_ok` says "" means "none"."""
        value = self.get(table, key, str, "a string", default)
        if value is not None and not str(value).strip() and not empty_ok:
            raise self.fail(
                f"{table}.{key}", "a non-empty string (leave the key out for the default)", value
            )
        return None if value in (None, "") else str(value)

    def number(
        self, table: str, key: str, default: float | None, lo: float, hi: float | None
    ) -> float | None:
        rng = f"a number >= {lo:g}" if hi is None else f"a number in [{lo:g}, {hi:g}]"
        value = self.get(table, key, (int, float), rng, default)
        if value is None:
            return None
        f = float(value)
        if math.isnan(f) or f < lo or (hi is not None and f > hi) or math.isinf(f):
            raise self.fail(f"{table}.{key}", rng, value)
        return f

    def strings(self, table: str, key: str) -> tuple[str, ...] | None:
        value = self.table(table).get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{table}.{key}", "a list of strings", value)
        return tuple(value)

    def resolve(self, text: str) -> Path:
        p = Path(text).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else self.path.parent / p))
