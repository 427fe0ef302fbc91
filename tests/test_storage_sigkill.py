"""SIGKILL at random moments loses no acknowledged row and leaves an intact database.

A real writer process (tests/fixtures/sigkill_writer.py) logs from three
threads and prints each sequence number only after `record()` returned; it
is killed with SIGKILL at a random moment, several times, each run
appending to the same log. Afterwards every printed row is present,
`PRAGMA integrity_check` says ok, the audit chain verifies, and every row
that names an archived frame has its file.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from station.storage.audit import verify_chain
from station.storage.integrity import verify_log
from station.storage.paths import archive_dir

WRITER = Path(__file__).parent / "fixtures" / "sigkill_writer.py"
RUNS = 5


def _run_and_kill(db: Path, run: str, rng: random.Random) -> set[int]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), run], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first == b"ready\n", proc.stderr.read().decode() if proc.stderr else first
    time.sleep(rng.uniform(0.05, 0.4))
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()  # everything acknowledged before the kill is in the pipe
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    acked = set()
    for line in rest.split(b"\n")[:-1]:  # a cut-off last line is not an acknowledgement
        name, seq = line.decode().split()
        assert name == run
        acked.add(int(seq))
    return acked


def test_sigkill_loses_no_committed_row(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    rng = random.Random(20260326)
    acked = {f"run{k}": _run_and_kill(db, f"run{k}", rng) for k in range(RUNS)}
    assert sum(map(len, acked.values())) > 0
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for run, seqs in acked.items():
            present = {
                s
                for (s,) in conn.execute(
                    "SELECT sequence FROM inspections WHERE station_id = ?", (run,)
                )
            }
            missing = seqs - present
            assert not missing, f"{run}: acknowledged rows lost: {sorted(missing)[:10]}"
        check = verify_chain(conn)
        assert check.ok, check.problem
        chains = verify_log(conn)  # every chain intact after each kill, anchors included
        assert chains.ok, [t.line() for t in chains.broken]
        opened = conn.execute("SELECT count(*) FROM events WHERE kind = 'log_opened'").fetchone()[0]
        assert opened == RUNS
        images = [
            p
            for (p,) in conn.execute(
                "SELECT image_path FROM inspections WHERE image_path IS NOT NULL"
            )
        ]
    finally:
        conn.close()
    root = archive_dir(db)
    assert images and all((root / p).is_file() for p in images)
