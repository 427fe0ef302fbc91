"""What the PLC link reports: its figures for the status line and exit JSON, and events.

`PlcStats` is a snapshot (`PlcLink.stats`); a `PlcEvent` is something that
happened on the wire (a PLC connected, a trigger overflowed) that the
inspection loop records in the log on its own thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PlcStats:
    """For the status line and the exit JSON (`"plc": {...}`)."""

    clients: int = 0
    triggers: int = 0
    results: int = 0
    late: int = 0
    last_trigger: int | None = None
    heartbeat: int = 0
    port: int = 0
    fault: str = ""

    def text(self) -> str:
        """The status line's words: clients connected, last trigger, heartbeat, faults."""
        trigger = "no trigger yet" if self.last_trigger is None else f"trigger {self.last_trigger}"
        words = (
            f"PLC :{self.port} · {self.clients} connected · {trigger} · heartbeat {self.heartbeat}"
        )
        if self.late:
            words += f" · {self.late} late"
        return f"{words} · FAULT {self.fault}" if self.fault else words

    def level(self) -> str:
        """ "ok", "warn" (no PLC connected) or "bad" (a fault: the PLC sees state 3)."""
        if self.fault:
            return "bad"
        return "ok" if self.clients else "warn"

    def to_json(self) -> dict[str, int]:
        return {
            "clients": self.clients,
            "triggers": self.triggers,
            "results": self.results,
            "late": self.late,
        }


@dataclass(frozen=True, slots=True)
class PlcEvent:
    """Something to record in the log: `kind`, a sentence, details."""

    kind: str
    message: str
    details: dict[str, Any]
