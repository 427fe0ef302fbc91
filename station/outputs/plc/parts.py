"""How a part carries its PLC identity into the log, and the words of a late part.

Plain values (no pymodbus): the pipeline uses them whether or not a PLC is configured.
"""

from __future__ import annotations

RESULT_ID_KEY = "plc_result_id"
"""`Inspection.extra` key: the result_id the part was sent to the PLC under."""
TRIGGER_ID_KEY = "trigger_id"
"""`Inspection.extra` key: the PLC's trigger_id that asked for the part (trigger mode)."""


def late_message(elapsed_ms: float, deadline_ms: int) -> str:
    """The NO DECISION reason of a part decided after its deadline (`late: N ms`)."""
    return f"late: {elapsed_ms:.0f} ms (decision deadline {deadline_ms} ms)"
