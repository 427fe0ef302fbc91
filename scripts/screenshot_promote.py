"""Screenshots of the tuning tab's model promotion for the manual (docs/models.md).

Builds a demonstration in a temporary folder: a recipe on the shipped model, a candidate
(the shipped model with every score halved: `tests/model_variants.py`, the same variant
the tests promote) and its `station compare --recipe --json` report on a 200-part
synthetic sample. Then opens the tuning tab as the station builds it, checks the
promotion through the tab's promoter (the service `station promote` uses) and saves the
confirmation dialog the supervisor sees, and the tab's Model buttons. Nothing is applied.
Needs a display; on a headless machine:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_promote.py

Writes assets/promote_confirm.png and assets/tuning_model.png (override with --out).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
RECIPE = """# line 2 widget recipe
[product]
name = "widget"

[model]
path = "{model}"

[thresholds]
default = 0.5

[costs]
escape = 20.0
scrap = 2.0
max_escape_rate = 0.10
"""


def wait(app: QApplication, cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"screenshot_promote: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def demo_inputs(tmp: Path) -> tuple[Path, Path, Path]:
    """(recipe, compare report, candidate) in `tmp`."""
    sys.path.insert(0, str(ROOT))
    from station.cli import main
    from station.synthetic.dataset import write_yolo_sample
    from tests.model_variants import SHIPPED, scaled_scores

    recipe = tmp / "widget.toml"
    recipe.write_text(RECIPE.format(model=SHIPPED), encoding="utf-8")
    candidate = scaled_scores(tmp / "defects-v2.onnx", [0.5] * 5)
    write_yolo_sample(tmp / "sample", 200, 1001)
    out = io.StringIO()
    argv = ["compare", "--current", str(SHIPPED), "--candidate", str(candidate)]
    argv += ["--data", str(tmp / "sample"), "--recipe", str(recipe), "--json", "--no-cache"]
    with contextlib.redirect_stdout(out):
        if main(argv) != 0:
            raise SystemExit("screenshot_promote: station compare failed")
    report = tmp / "compare.json"
    report.write_text(out.getvalue(), encoding="utf-8")
    return recipe, report, candidate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from station.detectors import load_detector
    from station.services.recipe_file import load_recipe
    from station.services.tuning_store import PinStore
    from station.storage.log import SqliteInspectionLog
    from station.ui.tuning.apply_dialog import ApplyDialog
    from station.ui.tuning.wiring import build_tuning

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        recipe_path, report, candidate = demo_inputs(tmp)
        recipe = load_recipe(recipe_path)
        info = load_detector(recipe.model.path).info
        log = SqliteInspectionLog(tmp / "log.sqlite3")
        pins = PinStore(tmp / "pin.json")
        pins.set_first("24680")  # a station whose supervisor PIN is set
        view, vm = build_tuning(recipe, info, log, lambda _ts: None, pins=pins)
        view.auto_load = False
        view.resize(1500, 950)
        view.show()
        promoter = view.promoter
        assert promoter is not None and view.promote_panel is not None
        asked: list[tuple[str, bool, str, str]] = []

        def ask(summary: str, first_use: bool, title: str, reason: str) -> None:
            asked.append((summary, first_use, title, reason))  # shown below; nothing applied

        view.promote_panel.ask = ask
        view.promote_panel.pick = lambda: (report, candidate)
        view.promote_panel.btn_promote.click()  # checked off the GUI thread, as in the station
        wait(app, lambda: bool(asked) and not promoter.runner.running, 120, "the check")
        view.message.setText("Promote model…: pick a `station compare --json` report")
        app.processEvents()
        shot = args.out / "tuning_model.png"
        left = view.promote_panel.parentWidget()  # the thresholds column, the Model box in it
        left.grab().save(str(shot))
        print(f"wrote {shot}")
        summary, first_use, title, reason = asked[0]
        dialog = ApplyDialog(
            summary,
            first_use,
            view,
            title=title,
            action="Promote",
            reason=reason,
            reason_hint="why this model change (required, goes to the audit trail)",
        )
        dialog.who.setText("Sam Supervisor")
        dialog.pin.setText("24680")
        dialog.show()
        for _ in range(20):
            app.processEvents()
            time.sleep(0.01)
        shot = args.out / "promote_confirm.png"
        dialog.grab().save(str(shot))
        print(f"wrote {shot}")
        dialog.close()
        view.close()
        vm.shutdown()
        promoter.wait()
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
