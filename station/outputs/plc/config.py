"""The recipe's `[plc]` table: checked values, every refusal one line naming the field."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.core.errors import StationError

KINDS = ("modbus-tcp",)
DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 502
DEFAULT_UNIT_ID = 1
DEFAULT_HEARTBEAT_MS = 500
KEYS = ("kind", "host", "port", "unit_id", "heartbeat_ms", "require_ack")
MAX_PENDING = 8
"""With require_ack, results wait for the PLC's result_ack; one more is an overrun."""


@dataclass(frozen=True, slots=True)
class PlcConfig:
    """Where the station listens as a Modbus TCP server and how it talks to the PLC.

    `port` 0 asks the OS for a free port (tests); `heartbeat_ms` is the period of the
    heartbeat register; with `require_ack` a result waits for the PLC's result_ack.
    """

    kind: str = "modbus-tcp"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    unit_id: int = DEFAULT_UNIT_ID
    heartbeat_ms: int = DEFAULT_HEARTBEAT_MS
    require_ack: bool = False

    def to_table(self) -> dict[str, Any]:
        """The `[plc]` table that reads back as this config."""
        return {key: getattr(self, key) for key in KEYS}


def plc_config(table: Mapping[str, Any], where: str) -> PlcConfig:
    """A `PlcConfig` from a recipe's `[plc]` table; `where` (the file) starts each refusal."""

    def fail(key: str, expected: str) -> StationError:
        got = f", got {table[key]!r}" if key in table else ""
        return StationError(f"{where}: plc.{key}: expected {expected}{got}")

    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise fail(unknown[0], f"one of the keys {', '.join(sorted(KEYS))}")
    if "kind" not in table:
        raise fail("kind", f"the PLC protocol, one of {', '.join(repr(k) for k in KINDS)}")
    if table["kind"] not in KINDS:
        raise fail("kind", f"one of {', '.join(repr(k) for k in KINDS)}")

    def integer(key: str, default: int, low: int, high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise fail(key, f"an integer in [{low}, {high}]")
        return value

    host = table.get("host", DEFAULT_HOST)
    if not isinstance(host, str) or not _is_address(host):
        raise fail("host", "an IP address to listen on (0.0.0.0 for every interface)")
    require_ack = table.get("require_ack", False)
    if not isinstance(require_ack, bool):
        raise fail("require_ack", "true or false")
    return PlcConfig(
        kind=str(table["kind"]),
        host=host,
        port=integer("port", DEFAULT_PORT, 0, 65535),
        unit_id=integer("unit_id", DEFAULT_UNIT_ID, 0, 247),
        heartbeat_ms=integer("heartbeat_ms", DEFAULT_HEARTBEAT_MS, 10, 60_000),
        require_ack=require_ack,
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
