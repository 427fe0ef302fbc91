"""Screenshot of the Shift tab on a log edited after the fact (the audit-chain warning).

Runs the real station headless on the default recipe (synthetic line, shipped
model) for PARTS parts into a fresh log, flips one logged REJECT to PASS with
the sqlite3 module as someone with the sqlite3 shell would, opens the real
Shift tab on that log and saves `widget.grab()`. Takes about a minute (the
synthetic line makes one part a second). Needs a display; on a headless machine:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_shift_chain.py

Writes assets/shift_chain_broken.png (override with --out).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from station.services.recipe_file import default_recipe_path, load_recipe
from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shift_tab import ShiftTab

ROOT = Path(__file__).resolve().parent.parent
PARTS = 40


def write_log(db: Path) -> int:
    """The station's own log of PARTS parts; returns a logged REJECT's row id."""
    run = [sys.executable, "-m", "station", "run", "--headless", "--parts", str(PARTS)]
    subprocess.run([*run, "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    conn = sqlite3.connect(db)
    try:
        (row,) = conn.execute("SELECT min(id) FROM inspections WHERE outcome = 'REJECT'").fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"screenshot_shift_chain: no part of {PARTS} was rejected; run again")
    return int(row)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "shift_chain_broken.png")
    args = ap.parse_args()
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "inspections.sqlite3"
        row = write_log(db)
        conn = sqlite3.connect(db)  # the edit: a rejected part now reads as passed
        conn.execute(f"UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = {row}")
        conn.commit()
        conn.close()
        schedule = load_recipe(default_recipe_path()).shifts
        tab = ShiftTab(ShiftViewModel(db, schedule, refresh_s=3600), PartDetailViewModel(db))
        tab.resize(1500, 900)
        tab.show()
        saved: list[bool] = []

        def grab_when_read() -> None:
            vm = tab.shift_vm
            if vm.summary is None or vm.busy:
                QTimer.singleShot(100, grab_when_read)
                return
            saved.append(tab.grab().save(str(args.out)))
            app.quit()

        QTimer.singleShot(300, grab_when_read)
        QTimer.singleShot(30_000, app.quit)
        app.exec()
        tab.close_models()
    if not saved or not saved[0]:
        print(f"screenshot_shift_chain: no screenshot written to {args.out}", file=sys.stderr)
        return 1
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
