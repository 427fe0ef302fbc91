"""A real pymodbus client against the station's real Modbus server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip(
    "pymodbus", reason="pymodbus missing: install the plc extra (bash scripts/setup.sh test)"
)

from pymodbus.client import ModbusTcpClient

from station.outputs.plc.config import PlcConfig
from station.outputs.plc.link import PlcLink

UNIT = 1


@contextmanager
def running_link(*, triggered: bool = True, **config: object) -> Iterator[PlcLink]:
    """A started `PlcLink` on a free port of 127.0.0.1, stopped afterwards."""
    settings: dict[str, object] = {"host": "127.0.0.1", "port": 0, "heartbeat_ms": 50}
    settings.update(config)
    link = PlcLink(PlcConfig(**settings), triggered=triggered)  # type: ignore[arg-type]
    link.start()
    try:
        yield link
    finally:
        link.stop()


@contextmanager
def plc_client(port: int) -> Iterator[ModbusTcpClient]:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
    assert client.connect()
    try:
        yield client
    finally:
        client.close()


def read_all(client: ModbusTcpClient, count: int = 22) -> list[int]:
    reply = client.read_holding_registers(0, count=count, device_id=UNIT)
    assert not reply.isError(), reply
    return list(reply.registers)


def exception_code(reply: object) -> int | None:
    """The Modbus exception code of a reply, None when it is no error."""
    if not reply.isError():  # type: ignore[attr-defined]
        return None
    return int(reply.exception_code)  # type: ignore[attr-defined]


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
