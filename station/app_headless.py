"""`station run --headless`: the pipeline without a window (and without importing Qt).

It runs until SIGINT/SIGTERM, a duration or a part count, with everything
committed, and prints one summary (JSON with --json) on stdout.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

from station.app import compose, start_forwarder, worker_setup
from station.core.errors import StationError

HEADLESS_DRAIN_S = 5.0
"""After a headless run, how long the central forwarder may catch up before the process ends."""


def run_headless(
    recipe_path: Path | None,
    db_path: Path | None,
    *,
    duration_s: float | None = None,
    max_parts: int | None = None,
    as_json: bool = False,
) -> int:
    """`station run --headless`: the pipeline without a window, until a signal, S s or N parts.

    Exit 0 on a clean stop (signal, duration, parts, end of a replay); 2 when the recipe is
    refused (one line on stderr, nothing run) or the camera refuses its configuration.
    On exit the summary goes to stdout: one JSON object with `as_json`, else one line.
    """
    import json

    from station.pipeline.headless import HeadlessRunner

    runner: HeadlessRunner | None = None
    pending: list[str] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if runner is None:
            pending.append(name)
        else:
            runner.request_stop(name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            parts = compose(recipe_path, db_path, headless=True)
        except StationError as exc:
            print(f"station run: error: {exc}", file=sys.stderr)
            return 2
        forwarder = start_forwarder(parts)
        runner = HeadlessRunner(
            worker_setup(parts),
            duration_s=duration_s,
            max_parts=max_parts,
            status_extra=None if forwarder is None else lambda: forwarder.status.text(),
        )
        for name in pending:  # a signal while the station was being built
            runner.request_stop(name)
        try:
            summary = runner.run()
        finally:
            if forwarder is not None:  # the line has stopped: a few seconds to catch up
                forwarder.drain(HEADLESS_DRAIN_S)
                forwarder.close()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if as_json:
        print(json.dumps(summary.to_dict()), flush=True)
    else:
        d = summary.to_dict()
        lat = summary
        print(
            f"inspected {d['inspected']}, passed {d['passed']}, rejected {d['rejected']}, "
            f"no decision {d['no_decision']} in {d['elapsed_s']} s ({d['parts_per_s']} parts/s); "
            f"latency p50 {_ms(lat.latency_p50_ms)}, p99 {_ms(lat.latency_p99_ms)}",
            flush=True,
        )
    if summary.camera_fault:
        print(f"station run: error: {summary.camera_fault}", file=sys.stderr)
        return 2
    return 0


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} ms"
