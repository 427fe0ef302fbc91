#!/usr/bin/env python3
"""Play the PLC against a station: a conveyor, one trigger per part, every result read back.

    python scripts/plc_sim.py --port 1502 --rate 10 --parts 200 --db logs/line.sqlite3

For commissioning a station whose recipe has `[camera] trigger = "plc"` and a `[plc]`
table. Parts arrive at `--rate` per second; for each one the simulator writes the next
trigger_id (1, 2, ... 65535, 1, ...) to register 20 and polls until result_id (register
2) shows that id, then reads result, reject_classes and the shift counters. A part
whose result does not come within `--result-timeout-ms` is rejected, as a PLC would.
The heartbeat (register 0) is watched throughout: a stall longer than 3 heartbeats is
reported. With `--ack` every result is acknowledged (result_ack, register 21), as a
station with `require_ack = true` needs. With `--db` (the station's log) the station's
shift counters are compared with `station report --json` for the same shift.

Exit 0 when every trigger got exactly its result (and, with `--db`, the counters equal the
report); 1 otherwise; 2 when the station cannot be reached. `--json` prints one object:
{triggers, results, pass, reject, no_decision, missing, plc_rejects, heartbeat_stalls,
latency_ms: {p50, p99, max}, counters: {passed, rejected, no_decision}, report, match,
by_id: [[trigger_id, result], ...]}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from pymodbus.client import ModbusTcpClient

HEARTBEAT, STATE, RESULT_ID, RESULT = 0, 1, 2, 3
TRIGGER_ID, RESULT_ACK = 20, 21
RESULT_WORDS = {1: "pass", 2: "reject", 3: "no_decision"}
POLL_S = 0.002


@dataclass
class Tally:
    triggers: int = 0
    results: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {"pass": 0, "reject": 0, "no_decision": 0, "missing": 0}
    )
    latencies_ms: list[float] = field(default_factory=list)
    heartbeat_stalls: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    wrong_ids: int = 0
    by_id: list[tuple[int, str]] = field(default_factory=list)


class Heartbeat:
    """Notes each change of register 0; a stall is no change for `stall_s`."""

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self.value: int | None = None
        self.changed_at = time.monotonic()
        self.stalled = False
        self.stalls = 0

    def see(self, value: int) -> None:
        now = time.monotonic()
        if value != self.value:
            self.value, self.changed_at, self.stalled = value, now, False
        elif not self.stalled and now - self.changed_at > self.stall_s:
            self.stalled = True
            self.stalls += 1
            print(f"plc_sim: heartbeat stalled at {value}", file=sys.stderr)


def read_block(client: ModbusTcpClient, unit: int) -> list[int]:
    reply = client.read_holding_registers(0, count=12, device_id=unit)
    if reply.isError():
        raise RuntimeError(f"read refused: {reply}")
    return list(reply.registers)


def uint32(regs: list[int], at: int) -> int:
    return (regs[at] << 16) | regs[at + 1]


def next_id(trigger_id: int) -> int:
    return trigger_id % 0xFFFF + 1


def run(args: argparse.Namespace, client: ModbusTcpClient) -> Tally:
    tally = Tally()
    beat = Heartbeat(3 * args.heartbeat_ms / 1000.0)
    regs = read_block(client, args.unit)
    beat.see(regs[HEARTBEAT])
    trigger_id = regs[RESULT_ID] if regs[RESULT_ID] else args.first_trigger - 1
    start = time.monotonic()
    for part in range(args.parts):
        slot = start + part / args.rate  # the conveyor does not wait for the station
        while (now := time.monotonic()) < slot:
            beat.see(read_block(client, args.unit)[HEARTBEAT])
            time.sleep(min(0.01, slot - now))
        trigger_id = next_id(trigger_id)
        reply = client.write_register(TRIGGER_ID, trigger_id, device_id=args.unit)
        if reply.isError():
            raise RuntimeError(f"trigger {trigger_id} refused: {reply}")
        tally.triggers += 1
        sent = time.perf_counter()
        deadline = sent + args.result_timeout_ms / 1000.0
        while True:
            regs = read_block(client, args.unit)
            beat.see(regs[HEARTBEAT])
            if regs[RESULT_ID] == trigger_id:
                break
            if time.perf_counter() > deadline:
                regs = []
                break
            time.sleep(POLL_S)
        if not regs:
            tally.counts["missing"] += 1
            tally.by_id.append((trigger_id, "missing"))
            print(f"plc_sim: no result for trigger {trigger_id}: rejected", file=sys.stderr)
            continue
        tally.latencies_ms.append((time.perf_counter() - sent) * 1e3)
        tally.results += 1
        word = RESULT_WORDS.get(regs[RESULT])
        if word is None:
            tally.wrong_ids += 1
            word = "no_decision"
        tally.counts[word] += 1
        tally.by_id.append((trigger_id, word))
        tally.counters = {
            "passed": uint32(regs, 5),
            "rejected": uint32(regs, 7),
            "no_decision": uint32(regs, 9),
        }
        if args.ack:
            client.write_register(RESULT_ACK, trigger_id, device_id=args.unit)
    tally.heartbeat_stalls = beat.stalls
    return tally


def shift_report(db: str, counters: dict[str, int]) -> dict[str, int] | None:
    """The report's counts for the shift the station's counters belong to (the latest)."""
    proc = subprocess.run(
        [sys.executable, "-m", "station", "report", "--json", "--db", db],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"plc_sim: station report failed: {proc.stderr.strip()}", file=sys.stderr)
        return None
    shifts = json.loads(proc.stdout)["shifts"]
    if not shifts:
        return None
    latest = max(shifts, key=lambda s: s["start"])
    return {k: int(latest[k]) for k in ("passed", "rejected", "no_decision")}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1", help="the station's address")
    p.add_argument("--port", type=int, default=502, help="the station's [plc] port")
    p.add_argument("--unit", type=int, default=1, help="the station's [plc] unit_id")
    p.add_argument("--rate", type=float, default=2.0, help="parts per second on the conveyor")
    p.add_argument("--parts", type=int, default=20, help="parts to send")
    p.add_argument("--first-trigger", type=int, default=1, help="first trigger_id (1-65535)")
    p.add_argument("--result-timeout-ms", type=float, default=2000.0)
    p.add_argument("--heartbeat-ms", type=float, default=500.0, help="the station's heartbeat")
    p.add_argument("--ack", action="store_true", help="write result_ack after each result")
    p.add_argument("--db", help="the station's log: compare its counters with station report")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.parts < 1 or not 1 <= args.first_trigger <= 0xFFFF:
        p.error("--rate must be > 0, --parts >= 1, --first-trigger in 1..65535")

    client = ModbusTcpClient(args.host, port=args.port, timeout=2)
    if not client.connect():
        print(f"plc_sim: cannot connect to {args.host}:{args.port}", file=sys.stderr)
        return 2
    try:
        tally = run(args, client)
    except RuntimeError as exc:
        print(f"plc_sim: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()

    report = shift_report(args.db, tally.counters) if args.db else None
    match = report == tally.counters if args.db else None
    complete = tally.results == tally.triggers and tally.wrong_ids == 0
    c = tally.counts
    summary = {
        "triggers": tally.triggers,
        "results": tally.results,
        **c,
        "plc_rejects": c["reject"] + c["no_decision"] + c["missing"],
        "heartbeat_stalls": tally.heartbeat_stalls,
        "latency_ms": {
            "p50": percentile(tally.latencies_ms, 50),
            "p99": percentile(tally.latencies_ms, 99),
            "max": percentile(tally.latencies_ms, 100),
        },
        "counters": tally.counters,
        "report": report,
        "match": match,
        "by_id": tally.by_id,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        lat = summary["latency_ms"]
        print(
            f"{tally.triggers} triggers, {tally.results} results: pass {c['pass']}, "
            f"reject {c['reject']}, no decision {c['no_decision']}, missing {c['missing']} "
            f"(the PLC rejects {summary['plc_rejects']}); trigger to result p50 {lat['p50']} "
            f"ms, p99 {lat['p99']} ms; heartbeat stalls {tally.heartbeat_stalls}"
        )
        if args.db:
            verdict = "equal" if match else "DIFFERENT"
            print(f"station counters {tally.counters} vs station report {report}: {verdict}")
    return 0 if complete and match is not False else 1


if __name__ == "__main__":
    sys.exit(main())
