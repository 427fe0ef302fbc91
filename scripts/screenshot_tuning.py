"""Screenshots of the tuning view for the README, at a low and a high threshold.

Opens the tuning tab as the station builds it (default recipe, shipped model)
on the shipped held-out sample (written and scored on first use, then read
from the score cache), starting from the recipe's saved thresholds, and saves
the whole tab at two positions of one class's slider. The log and the PIN file
are temporary: nothing is applied. Needs a display; on a headless machine:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_tuning.py

Writes assets/tuning_low.png and assets/tuning_high.png (override with --out).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1500, 950)


def wait(app: QApplication, cond, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"screenshot_tuning: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    parser.add_argument("--cls", default="scratch", help="class whose slider is moved")
    parser.add_argument("--low", type=float, default=0.10)
    parser.add_argument("--high", type=float, default=0.35)
    parser.add_argument(
        "--recommend",
        action="store_true",
        help="press 'Minimum cost' first (default: start from the recipe's saved thresholds)",
    )
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    from station.detectors import load_detector
    from station.services.recipe_file import default_recipe_path, load_recipe
    from station.services.tuning_store import PinStore
    from station.storage.log import SqliteInspectionLog
    from station.ui.tuning.wiring import build_tuning

    recipe = load_recipe(default_recipe_path())
    info = load_detector(recipe.model.path, recipe.model.labels, recipe.model.family).info
    with tempfile.TemporaryDirectory() as tmp:
        log = SqliteInspectionLog(Path(tmp) / "log.sqlite3")
        view, vm = build_tuning(
            recipe, info, log, lambda _ts: None, pins=PinStore(Path(tmp) / "pin.json")
        )
        view.resize(*SIZE)
        view.show()
        wait(app, lambda: vm.loaded is not None and not vm.runner.running, 900, "the sample")
        if args.recommend:
            view.btn_min_cost.click()
            wait(app, lambda: not vm.rec_runner.running, 600, "the recommendation")
            print(f"recommendation: {view.message.text()}")
        args.out.mkdir(parents=True, exist_ok=True)
        for name, value in (("low", args.low), ("high", args.high)):
            view.sliders[args.cls].slider.setFocus()
            view.sliders[args.cls].slider.setValue(round(value * 100))
            view.changed.flush()
            for _ in range(20):
                app.processEvents()
                time.sleep(0.01)
            path = args.out / f"tuning_{name}.png"
            view.grab().save(str(path))
            print(f"wrote {path}: {view.escape_label.text()}; {view.scrap_label.text()}")
        view.close()
        vm.shutdown()
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
