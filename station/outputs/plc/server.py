"""The station as a Modbus TCP server (pymodbus 3.16), on its own thread with its own loop.

Only holding registers exist (function codes 3, 6, 16, 22, 23); any other function
is refused. Registers 0-19 are read-only, 20-21 take the PLC's writes, which a
`WriteHandler` checks as a whole before anything changes; beyond 21 is an illegal
address. Every read copies `PlcRegisters` under its lock, so one request sees one
consistent set of values. A request for another unit id is answered "gateway target
failed to respond" (0x0B), as a gateway would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Sequence
from enum import Enum
from typing import Any, Protocol

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import DataType, SimData, SimDevice

from station.core.errors import StationError
from station.outputs.plc import register_map as rm
from station.outputs.plc.registers import PlcRegisters

HOLDING_WRITES = frozenset({6, 16, 22, 23})
HOLDING = HOLDING_WRITES | {3}
"""Read holding registers (3) and the writes, which read back what they wrote."""
START_TIMEOUT_S = 10.0


class Refusal(Enum):
    """Why a PLC write is refused, as the Modbus exception the PLC gets."""

    ADDRESS = ExcCodes.ILLEGAL_ADDRESS
    VALUE = ExcCodes.ILLEGAL_VALUE
    STATE = ExcCodes.ILLEGAL_FUNCTION  # not allowed in the station's current mode


class WriteHandler(Protocol):
    """Checks and applies one PLC write to registers 20-21 (all of it or nothing)."""

    def write(self, address: int, values: Sequence[int]) -> Refusal | None: ...


class ClientWatcher(Protocol):
    """Told when a PLC connects or disconnects (`peer` is "host:port")."""

    def connected(self, peer: str) -> None: ...

    def disconnected(self, peer: str) -> None: ...


class _PeerHandler(ServerRequestHandler):
    """pymodbus' per-connection handler, telling the watcher who came and went."""

    watcher: ClientWatcher | None = None
    peer = "unknown"
    _gone = False

    def callback_connected(self) -> None:
        super().callback_connected()
        info = self.transport.get_extra_info("peername") if self.transport else None
        if isinstance(info, tuple) and len(info) >= 2:
            self.peer = f"{info[0]}:{info[1]}"
        if self.watcher is not None:
            self.watcher.connected(self.peer)

    def callback_disconnected(self, exc: Exception | None) -> None:
        super().callback_disconnected(exc)
        if self.watcher is not None and not self._gone:  # pymodbus may call this twice
            self._gone = True
            self.watcher.disconnected(self.peer)


class _TcpServer(ModbusTcpServer):
    watcher: ClientWatcher | None = None

    def callback_new_connection(self) -> ServerRequestHandler:
        make: Any = _PeerHandler  # pymodbus leaves its __init__ untyped
        handler: _PeerHandler = make(self, self.trace_packet, self.trace_pdu, self.trace_connect)
        handler.watcher = self.watcher
        return handler


class ModbusPlcServer:
    """Serves `registers` on (host, port); `start` returns the bound port (port 0: any free)."""

    def __init__(
        self,
        registers: PlcRegisters,
        writes: WriteHandler,
        watcher: ClientWatcher,
        *,
        host: str,
        port: int,
        unit_id: int,
    ) -> None:
        self._registers = registers
        self._writes = writes
        self._watcher = watcher
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: str | None = None

    def start(self) -> int:
        """Listen; StationError naming host and port when the address cannot be had."""
        _probe(self.host, self.port)
        self._thread = threading.Thread(target=self._run, name="plc-modbus-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            self.stop()
            why = self._error or f"not listening after {START_TIMEOUT_S:g} s"
            raise StationError(f"plc: cannot listen on {self.host}:{self.port}: {why}")
        return self.port

    def stop(self) -> None:
        """Close every connection and the listener; returns when the thread has ended."""
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            thread.join(START_TIMEOUT_S)
        self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # reported by start(); the thread must not die silently
            self._error = f"{type(exc).__name__}: {exc}"
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = _TcpServer(self._devices(), address=(self.host, self.port))
        server.watcher = self._watcher
        await server.serve_forever(background=True)
        sockets = getattr(server.transport, "sockets", None) or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            stopping: Any = server.shutdown  # untyped in pymodbus
            await stopping()

    def _devices(self) -> list[SimDevice]:
        blocks = [
            SimData(0, count=rm.TRIGGER_ID, values=0, datatype=DataType.REGISTERS, readonly=True),
            SimData(rm.TRIGGER_ID, count=len(rm.PLC_WRITES), values=0, datatype=DataType.REGISTERS),
        ]
        devices = [SimDevice(self.unit_id, simdata=blocks, action=self._action)]
        if self.unit_id != 0:  # id 0 catches every other unit id
            other = [SimData(0, count=rm.SIZE, values=0, datatype=DataType.REGISTERS)]
            devices.append(SimDevice(0, simdata=other, action=_other_unit))
        return devices

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus calls this after its own address checks, before it reads or writes."""
        if function_code not in HOLDING:
            return ExcCodes.ILLEGAL_FUNCTION
        if set_values is None:
            registers[: rm.SIZE] = self._registers.read()  # registers[0] is address 0
            return None
        if function_code not in HOLDING_WRITES:
            return ExcCodes.ILLEGAL_FUNCTION
        values = [int(v) for v in set_values]
        if address not in rm.PLC_WRITES or address + len(values) - 1 not in rm.PLC_WRITES:
            return ExcCodes.ILLEGAL_ADDRESS
        refusal = self._writes.write(address, values)
        return None if refusal is None else refusal.value


async def _other_unit(*_: Any) -> ExcCodes:
    return ExcCodes.GATEWAY_NO_RESPONSE


def _probe(host: str, port: int) -> None:
    """Bind (host, port) once, so a taken port is refused with the OS' reason in words."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StationError(
                f"plc: cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None
