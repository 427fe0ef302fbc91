"""The PLC link: a real pymodbus client drives the station's real Modbus TCP server."""

from __future__ import annotations

import time

import pytest
from plc_support import UNIT, exception_code, plc_client, read_all, running_link, wait_until

from station.core.decision import Outcome
from station.core.errors import StationError
from station.outputs.plc import register_map as rm
from station.outputs.plc.config import MAX_PENDING, PlcConfig, plc_config
from station.outputs.plc.link import CAMERA_FAULT, PlcLink

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, GATEWAY_NO_RESPONSE = 1, 2, 3, 11


def publish(link: PlcLink, result_id: int, outcome: Outcome = Outcome.PASS, **kw: int) -> bool:
    counts = {"passed": 0, "rejected": 0, "no_decision": 0}
    counts.update(kw)
    return link.publish(result_id, outcome, **counts)


# ---- register map and recipe table -------------------------------------------------------


def test_uint32_is_two_registers_high_word_first() -> None:
    assert rm.uint32_words(70_000) == (1, 4464)
    assert rm.uint32_from(*rm.uint32_words(123_456_789)) == 123_456_789
    assert rm.uint32_words(2**40) == (0xFFFF, 0xFFFF)  # clamped, never wrapped
    assert rm.reject_class_bits([0, 2, 15, 16, 40]) == 0b1000_0000_0000_0101


def test_plc_table_defaults_and_values() -> None:
    assert plc_config({"kind": "modbus-tcp"}, "r.toml") == PlcConfig()
    config = plc_config(
        {"kind": "modbus-tcp", "host": "127.0.0.1", "port": 1502, "require_ack": True}, "r.toml"
    )
    assert (config.host, config.port, config.require_ack) == ("127.0.0.1", 1502, True)
    assert plc_config(config.to_table(), "r.toml") == config


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "r.toml: plc.kind: expected the PLC protocol"),
        ({"kind": "profinet"}, "plc.kind: expected one of 'modbus-tcp', got 'profinet'"),
        ({"kind": "modbus-tcp", "port": 70000}, "plc.port: expected an integer in [0, 65535]"),
        ({"kind": "modbus-tcp", "port": "502"}, "plc.port: expected an integer"),
        ({"kind": "modbus-tcp", "unit_id": 300}, "plc.unit_id: expected an integer in [0, 247]"),
        ({"kind": "modbus-tcp", "heartbeat_ms": 0}, "plc.heartbeat_ms: expected an integer"),
        ({"kind": "modbus-tcp", "heartbeat_ms": True}, "plc.heartbeat_ms: expected an integer"),
        ({"kind": "modbus-tcp", "host": "plc.local"}, "plc.host: expected an IP address"),
        ({"kind": "modbus-tcp", "require_ack": 1}, "plc.require_ack: expected true or false"),
        ({"kind": "modbus-tcp", "hearbeat_ms": 5}, "plc.hearbeat_ms: expected one of the keys"),
    ],
)
def test_plc_table_refusals_name_the_field(table: dict[str, object], message: str) -> None:
    with pytest.raises(StationError, match=message.replace("[", r"\[")) as err:
        plc_config(table, "r.toml")
    assert "\n" not in str(err.value)


def test_a_taken_port_is_refused_in_one_line() -> None:
    with running_link() as first:
        second = PlcLink(PlcConfig(host="127.0.0.1", port=first.port), triggered=True)
        with pytest.raises(StationError, match=rf"plc: cannot listen on 127.0.0.1:{first.port}"):
            second.start()


# ---- the PLC's writes -----------------------------------------------------------------------


def test_a_trigger_is_taken_once_per_new_id() -> None:
    with running_link() as link, plc_client(link.port) as plc:
        link.set_running(True)
        assert exception_code(plc.write_register(rm.TRIGGER_ID, 17, device_id=UNIT)) is None
        assert link.take_trigger(1.0) == 17
        plc.write_register(rm.TRIGGER_ID, 17, device_id=UNIT)  # rewritten cyclically: not new
        assert link.take_trigger(0.1) is None
        plc.write_register(rm.TRIGGER_ID, 18, device_id=UNIT)
        assert link.take_trigger(1.0) == 18
        assert read_all(plc)[rm.TRIGGER_ID] == 18
        assert link.stats().triggers == 2 and link.stats().last_trigger == 18


@pytest.mark.parametrize(
    ("write", "code"),
    [
        (lambda plc: plc.write_register(rm.TRIGGER_ID, 0, device_id=UNIT), ILLEGAL_VALUE),
        (lambda plc: plc.write_register(rm.HEARTBEAT, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_register(rm.RESULT_ID, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_register(12, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_register(19, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_register(22, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_register(9999, 5, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_registers(19, [5, 6], device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_registers(20, [0, 6], device_id=UNIT), ILLEGAL_VALUE),
        (lambda plc: plc.write_registers(20, [5, 6, 7], device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.write_coil(20, True, device_id=UNIT), ILLEGAL_FUNCTION),
        (lambda plc: plc.write_register(rm.TRIGGER_ID, 5, device_id=9), GATEWAY_NO_RESPONSE),
        (lambda plc: plc.read_holding_registers(0, count=23, device_id=UNIT), ILLEGAL_ADDRESS),
        (lambda plc: plc.read_input_registers(0, count=2, device_id=UNIT), ILLEGAL_FUNCTION),
    ],
)
def test_garbage_is_refused_with_an_exception_and_changes_nothing(write, code: int) -> None:
    with running_link() as link, plc_client(link.port) as plc:
        link.set_running(True)
        publish(link, 3, Outcome.REJECT, rejected=1)
        link.set_fault(CAMERA_FAULT, "frozen heartbeat, for a stable snapshot")
        before = read_all(plc)
        assert exception_code(write(plc)) == code
        assert read_all(plc) == before
        assert link.take_trigger(0.05) is None
        assert link.stats().triggers == 0


def test_triggers_are_refused_while_stopped_or_free_running() -> None:
    with running_link() as link, plc_client(link.port) as plc:  # not running yet
        assert read_all(plc)[rm.STATE] == rm.PlcState.STOPPED
        reply = plc.write_register(rm.TRIGGER_ID, 4, device_id=UNIT)
        assert exception_code(reply) == ILLEGAL_FUNCTION
    with running_link(triggered=False) as link, plc_client(link.port) as plc:
        link.set_running(True)
        reply = plc.write_register(rm.TRIGGER_ID, 4, device_id=UNIT)
        assert exception_code(reply) == ILLEGAL_FUNCTION
        assert link.stats().triggers == 0


def test_a_full_trigger_queue_drops_the_new_trigger_visibly() -> None:
    with running_link() as link, plc_client(link.port) as plc:
        link.set_running(True)
        for trigger_id in range(1, MAX_PENDING + 2):
            assert exception_code(plc.write_register(20, trigger_id, device_id=UNIT)) is None
        assert read_all(plc)[rm.STATE] == rm.PlcState.FAULT
        assert link.take_dropped() == [MAX_PENDING + 1]
        assert [link.take_trigger(0.1) for _ in range(MAX_PENDING)] == list(range(1, 9))
        assert read_all(plc)[rm.STATE] == rm.PlcState.READY  # every trigger answered
        assert any(e.kind == "plc_trigger_overflow" for e in link.take_events())


# ---- results ---------------------------------------------------------------------------------


def test_a_result_is_whole_when_its_id_changes() -> None:
    with running_link() as link, plc_client(link.port) as plc:
        link.set_running(True)
        link.part_started()
        assert read_all(plc)[rm.STATE] == rm.PlcState.BUSY
        link.take_trigger(0.0)
        assert publish(link, 17, Outcome.REJECT, passed=3, rejected=70_000, no_decision=1)
        regs = read_all(plc)
        assert regs[rm.STATE] == rm.PlcState.READY
        assert regs[rm.RESULT_ID] == 17 and regs[rm.RESULT] == rm.PlcResult.REJECT
        assert rm.uint32_from(*regs[5:7]) == 3
        assert rm.uint32_from(*regs[7:9]) == 70_000
        assert rm.uint32_from(*regs[9:11]) == 1
        assert regs[rm.RESULTS_PENDING] == 0
        link.publish(18, Outcome.REJECT, [1, 3], passed=3, rejected=70_001, no_decision=1)
        regs = read_all(plc)
        assert (regs[rm.RESULT_ID], regs[rm.REJECT_CLASSES]) == (18, 0b1010)
        assert link.stats().results == 2


def test_free_running_part_ids_skip_zero() -> None:
    link = PlcLink(PlcConfig(port=0), triggered=False)
    ids = [link.next_part_id() for _ in range(65_536)]
    assert ids[0] == 1 and ids[65_534] == 65_535 and ids[65_535] == 1
    assert 0 not in ids


def test_require_ack_buffers_up_to_eight_and_overrun_is_a_fault() -> None:
    with running_link(require_ack=True) as link, plc_client(link.port) as plc:
        link.set_running(True)
        for result_id in range(1, MAX_PENDING + 1):
            assert publish(link, result_id, passed=result_id)
        regs = read_all(plc)
        assert (regs[rm.RESULT_ID], regs[rm.RESULTS_PENDING]) == (1, MAX_PENDING)
        assert not publish(link, 9, passed=9)  # overrun
        assert read_all(plc)[rm.STATE] == rm.PlcState.FAULT
        assert exception_code(plc.write_register(rm.RESULT_ACK, 5, device_id=UNIT)) == 3
        seen = []
        for _ in range(MAX_PENDING):
            regs = read_all(plc)
            seen.append((regs[rm.RESULT_ID], rm.uint32_from(*regs[5:7])))
            assert exception_code(plc.write_register(21, regs[2], device_id=UNIT)) is None
        assert seen == [(i, i) for i in range(1, MAX_PENDING + 1)]
        regs = read_all(plc)
        assert (regs[rm.RESULTS_PENDING], regs[rm.STATE]) == (0, rm.PlcState.READY)
        assert exception_code(plc.write_register(21, 8, device_id=UNIT)) is None  # again: fine
        assert [e.kind for e in link.take_events()].count("plc_result_overrun") == 1


# ---- heartbeat and state -------------------------------------------------------------------


def _beats(plc, seconds: float) -> set[int]:
    seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.add(read_all(plc)[rm.HEARTBEAT])
        time.sleep(0.01)
    return seen


def test_heartbeat_runs_while_healthy_and_stops_within_two_periods() -> None:
    with running_link(heartbeat_ms=50) as link, plc_client(link.port) as plc:
        assert len(_beats(plc, 0.2)) == 1  # stopped: no beat
        link.set_running(True)
        assert len(_beats(plc, 0.3)) >= 3
        link.set_fault(CAMERA_FAULT, "camera lost")
        time.sleep(0.1)  # 2 x heartbeat_ms
        assert len(_beats(plc, 0.3)) == 1
        assert read_all(plc)[rm.STATE] == rm.PlcState.FAULT
        link.set_fault(CAMERA_FAULT, None)
        assert read_all(plc)[rm.STATE] == rm.PlcState.READY
        assert len(_beats(plc, 0.3)) >= 3
        link.set_running(False)
        time.sleep(0.1)
        assert len(_beats(plc, 0.3)) == 1
        assert read_all(plc)[rm.STATE] == rm.PlcState.STOPPED


def test_heartbeat_stops_when_the_loop_stalls() -> None:
    link = PlcLink(
        PlcConfig(host="127.0.0.1", port=0, heartbeat_ms=20), triggered=True, stall_after_s=0.15
    )
    link.start()
    try:
        link.set_running(True)
        with plc_client(link.port) as plc:
            time.sleep(0.4)  # nobody pulses: stalled after 0.15 s
            assert len(_beats(plc, 0.2)) == 1
            link.pulse()
            assert len(_beats(plc, 0.1)) >= 2
    finally:
        link.stop()


def test_heartbeat_wraps_at_65535() -> None:
    with running_link(heartbeat_ms=10) as link, plc_client(link.port) as plc:
        link.registers.write({rm.HEARTBEAT: 65_534})
        link.set_running(True)
        wait_until(lambda: read_all(plc)[rm.HEARTBEAT] < 100)


def test_a_plc_that_disconnects_and_reconnects_is_logged_and_served() -> None:
    with running_link() as link:
        link.set_running(True)
        with plc_client(link.port) as plc:
            plc.write_register(rm.TRIGGER_ID, 1, device_id=UNIT)
            wait_until(lambda: link.stats().clients == 1)
        wait_until(lambda: link.stats().clients == 0)
        publish(link, 1)
        with plc_client(link.port) as plc:
            assert read_all(plc)[rm.RESULT_ID] == 1
            plc.write_register(rm.TRIGGER_ID, 2, device_id=UNIT)
        kinds = [e.kind for e in link.take_events()]
        assert kinds.count("plc_connected") == 2 and kinds.count("plc_disconnected") >= 1
        assert [link.take_trigger(0.1), link.take_trigger(0.1)] == [1, 2]
