"""The Modbus register map the station presents to a PLC: a contract, kept exactly.

Holding registers, 0-based addresses. The station writes 0-11 (the PLC reads them);
the PLC writes 20-21. 12-19 read as 0 and refuse writes, so a PLC can read 0-21 in
one request. 32-bit counters are two registers, high word first.
"""

from __future__ import annotations

from enum import IntEnum

from station.core.decision import Outcome

HEARTBEAT = 0
"""+1 every heartbeat_ms (wraps at 65535) while the inspection loop is healthy."""
STATE = 1
"""A `PlcState`."""
RESULT_ID = 2
"""The trigger_id the result answers (trigger mode) or the part sequence modulo 65536;
changes exactly once per result, after everything else of that result is in place."""
RESULT = 3
"""A `PlcResult`."""
REJECT_CLASSES = 4
"""Bit i set when class i (model order, first 16 classes) caused the reject."""
PASSED = 5
"""uint32 at 5-6: parts passed this shift."""
REJECTED = 7
"""uint32 at 7-8: parts rejected this shift."""
NO_DECISION = 9
"""uint32 at 9-10: parts without a decision this shift."""
RESULTS_PENDING = 11
"""Results not yet acknowledged by the PLC (with require_ack)."""

TRIGGER_ID = 20
"""The PLC writes a new non-zero value to ask for exactly one inspection tagged with it."""
RESULT_ACK = 21
"""The PLC writes back the result_id it consumed."""

STATION_WRITES = range(HEARTBEAT, RESULTS_PENDING + 1)
PLC_WRITES = range(TRIGGER_ID, RESULT_ACK + 1)
SIZE = RESULT_ACK + 1
"""Registers 0..21; anything beyond is an illegal address."""

WORD = 0x10000
REJECT_CLASS_BITS = 16


class PlcState(IntEnum):
    STOPPED = 0
    READY = 1
    BUSY = 2
    FAULT = 3


class PlcResult(IntEnum):
    PASS = 1
    REJECT = 2
    NO_DECISION = 3  # the PLC rejects 2 and 3


RESULT_OF_OUTCOME = {
    Outcome.PASS: PlcResult.PASS,
    Outcome.REJECT: PlcResult.REJECT,
    Outcome.NO_DECISION: PlcResult.NO_DECISION,
}


def uint32_words(value: int) -> tuple[int, int]:
    """(high, low) 16-bit words of `value`, which is clamped to [0, 2**32 - 1]."""
    value = min(max(int(value), 0), WORD * WORD - 1)
    return value >> 16, value & 0xFFFF


def uint32_from(high: int, low: int) -> int:
    """The value of two registers, high word first (the PLC side of `uint32_words`)."""
    return (high << 16) | low


def reject_class_bits(class_ids: list[int] | tuple[int, ...]) -> int:
    """The reject_classes register: bit i for each class id i below 16."""
    bits = 0
    for i in class_ids:
        if 0 <= i < REJECT_CLASS_BITS:
            bits |= 1 << i
    return bits


def wrap16(value: int) -> int:
    """`value` modulo 65536: a 16-bit register's view of a counter."""
    return value % WORD
