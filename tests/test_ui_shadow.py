"""The Shift tab's shadow box, offscreen, on a real log written by a real shadow run:
the counts equal `station report`'s, the disagreements wait for confirmation, and a
confirmation (through the log) shows up after a refresh."""

from __future__ import annotations

import os
import time
from pathlib import Path

from station.core.selection import Selection
from station.core.shadow import KEYS
from station.services.recipe_file import load_recipe
from station.storage.log import SqliteInspectionLog
from station.storage.reports import shift_report
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shift_panel import ShiftPanel
from tests.test_shadow import UNMOVED, halved, run_parts, shadow_recipe, shadow_table


def test_shift_tab_shows_the_shadow_counts_and_its_disagreements(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, sha = halved(tmp_path)
    recipe_path = shadow_recipe(tmp_path, shadow_table(sha, UNMOVED))
    db = tmp_path / "log.sqlite3"
    run_parts(recipe_path, db, 30, queue=64)
    schedule = load_recipe(recipe_path).shifts
    shift_id = schedule.shift_at(time.time()).id
    expected = shift_report(db, Selection(shift_id=shift_id)).shifts[0].shadow
    assert expected["now_rejected_would_pass"] > 0
    vm = ShiftViewModel(db, schedule, refresh_s=3600)
    try:
        panel = ShiftPanel(vm)
        qtbot.addWidget(panel)
        panel.resize(1200, 1000)
        qtbot.waitUntil(lambda: vm.summary is not None, timeout=10000)
        box = panel.shadow_box
        assert not box.isHidden()
        assert {k: int(box.values[k].text()) for k in KEYS} == expected
        table = box.table
        assert table.rowCount() == expected["now_rejected_would_pass"]
        assert {table.item(r, 5).text() for r in range(table.rowCount())} == {"waiting"}
        assert table.item(0, 2).text() == "REJECT" and table.item(0, 3).text() == "PASS"
        shot = os.environ.get("SHADOW_SCREENSHOT")
        if shot:
            panel.grab().save(shot)
        with qtbot.waitSignal(panel.part_requested, timeout=2000) as blocker:
            table.cellDoubleClicked.emit(0, 0)
        row_id = blocker.args[0]
        log = SqliteInspectionLog(db, schedule=schedule)
        try:
            log.confirm(row_id, True, "scratch", "ana")
        finally:
            log.close()
        vm.refresh_all()
        qtbot.waitUntil(
            lambda: vm.summary is not None and any(d.confirmed for d in vm.summary.disagreements),
            timeout=10000,
        )
        rows = table.rowCount()
        states = [table.item(r, 5).text() for r in range(rows)]
        assert states[-1] == "defective"  # confirmed ones after those still waiting
        assert states.count("waiting") == rows - 1
    finally:
        vm.close()


def test_the_status_line_says_when_shadow_thresholds_are_bound_to_no_model(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path
) -> None:
    """The window's operator reads no stderr: the warning shows in the status line too."""
    from PySide6.QtCore import QSettings

    from station.app import compose
    from station.app_window import build_window

    _, sha = halved(tmp_path)
    tables = {
        "bound": shadow_table(sha, UNMOVED),
        "unbound": shadow_table(sha, UNMOVED).replace(f'tuned_on_model_sha256 = "{sha}"\n', ""),
    }
    shown = {}
    for name, table in tables.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "candidate.onnx").write_bytes((tmp_path / "candidate.onnx").read_bytes())
        parts = compose(shadow_recipe(folder, table), folder / "log.sqlite3")
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        window = build_window(
            parts,
            autostart=False,
            settings=settings,
            load_tuning_sample_at_start=False,
            tuning_cache_dir=folder / "cache",
        )
        qtbot.addWidget(window)
        shown[name] = (window.status.shadow.isHidden(), window.status.shadow.text())
        window.close()
    assert shown["bound"] == (True, "")
    hidden, text = shown["unbound"]
    assert not hidden and text.startswith("Shadow: shadow.tuned_on_model_sha256: not set")
