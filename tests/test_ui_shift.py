"""The shift panel and the part view, offscreen, on a real log: figures equal the report,
confirmations reach the log, nothing is left running."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from shift_support import SCHEDULE
from storage_support import make_inspection

from station.core.selection import Selection
from station.storage.reports import shift_report
from station.ui.view_models.part_vm import PartConfirmation, PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.part_detail import PartDetailView
from station.ui.widgets.shift_panel import ShiftPanel


def test_shift_panel_shows_the_logs_figures(qtbot, logged) -> None:  # type: ignore[no-untyped-def]
    db, _, rows = logged
    vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    try:
        panel = ShiftPanel(vm)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: vm.summary is not None, timeout=10000)
        summary = vm.summary
        assert summary is not None
        expected = shift_report(db, Selection(shift_id=SCHEDULE.shift_at(time.time()).id)).shifts[0]
        assert summary.current.inspected == expected.inspected == 4
        assert panel.values["inspected"].text() == "4"
        assert panel.values["passed"].text() == "1"
        assert panel.values["rejected"].text() == "2"
        assert panel.values["no_decision"].text() == "1"
        assert panel.values["yield"].text() == "25.0 %"
        reasons = {
            panel.reasons_table.item(r, 0).text(): panel.reasons_table.item(r, 1).text()
            for r in range(panel.reasons_table.rowCount())
        }
        assert reasons == {"crack": "2", "dent": "1", "no decision: camera lost": "1"}
        assert panel.past_table.rowCount() == 1
        assert panel.past_table.item(0, 2).text() == "2"  # inspected in the previous shift
        assert panel.recent_table.rowCount() == 3  # rejects and no-decisions, not the pass
        assert "Europe/Berlin" in panel.title.text()
        # double-clicking a recent reject asks for its detail
        with qtbot.waitSignal(panel.part_requested, timeout=2000) as blocker:
            panel.recent_table.cellDoubleClicked.emit(0, 0)
        assert blocker.args == [rows["dent"]]
    finally:
        vm.close()


def test_refresh_picks_up_new_parts(qtbot, logged) -> None:  # type: ignore[no-untyped-def]
    db, log, _ = logged
    vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    try:
        qtbot.waitUntil(lambda: vm.summary is not None, timeout=10000)
        log.record(make_inspection(7, time.time(), scores={"dent": 0.9}))
        vm.refresh()
        vm.refresh()  # coalesced with the one in flight
        qtbot.waitUntil(
            lambda: vm.summary is not None and vm.summary.current.inspected == 5, timeout=10000
        )
        qtbot.waitUntil(lambda: not vm.busy, timeout=10000)
    finally:
        vm.close()


def test_missing_log_is_shown_not_raised(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = ShiftViewModel(tmp_path / "none.sqlite3", SCHEDULE, refresh_s=3600)
    try:
        panel = ShiftPanel(vm)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: bool(vm.error), timeout=10000)
        assert "no such file" in panel.error_label.text()
        assert not panel.error_label.isHidden()
    finally:
        vm.close()


def test_part_detail_shows_the_part_and_confirms_it(qtbot, logged) -> None:  # type: ignore[no-untyped-def]
    db, log, rows = logged
    vm = PartDetailViewModel(db, confirm_sink=log, operator="anna")
    view = PartDetailView(vm)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    verdicts: list[PartConfirmation] = []
    vm.part_confirmed.connect(verdicts.append)
    assert not view.good_button.isEnabled()  # nothing loaded yet
    vm.load(rows["dent"])
    assert vm.part is not None and vm.image is None  # a reject logged without a frame
    vm.load(rows["reject"])
    assert vm.image is not None and vm.image.shape == (64, 64, 3)
    assert "REJECT" in view.info.text() and "crack 0.90 ≥ 0.50" in view.info.text()
    table = [
        [view.scores_table.item(r, c).text() for c in range(4)]
        for r in range(view.scores_table.rowCount())
    ]
    assert table == [
        ["scratch", "–", "0.40", ""],
        ["crack", "0.900", "0.50", "rejects"],
        ["dent", "–", "0.60", ""],
    ]
    assert view.class_combo.currentText() == "crack"
    view.grab()  # paints the frame with its boxes
    with qtbot.waitSignal(vm.confirmed, timeout=5000):
        view.good_button.click()
    assert "really good" in view.status.text()
    assert "confirmed <b>really good</b> by anna" in view.info.text()
    view.class_combo.setCurrentText("dent")
    view.defective_button.click()
    conn = sqlite3.connect(db)
    try:
        got = conn.execute(
            "SELECT inspection_id, defective, class_name, operator FROM confirmations ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert got == [(rows["reject"], 0, None, "anna"), (rows["reject"], 1, "dent", "anna")]
    shift = vm.part.shift_id
    assert verdicts == [  # for the live estimate: the station did not ship this part
        PartConfirmation(rows["reject"], shift, False, False),
        PartConfirmation(rows["reject"], shift, True, False),
    ]


def test_part_detail_without_a_log_to_write_is_read_only(qtbot, logged) -> None:  # type: ignore[no-untyped-def]
    db, _, rows = logged
    vm = PartDetailViewModel(db)
    view = PartDetailView(vm)
    qtbot.addWidget(view)
    vm.load(rows["nodecision"])
    assert "NO DECISION" in view.info.text() and "camera lost" in view.info.text()
    assert not view.defective_button.isEnabled() and not view.good_button.isEnabled()
    with qtbot.waitSignal(vm.failed, timeout=2000):
        vm.load(999_999)
    assert "no logged part" in view.status.text()


def test_past_shifts_are_reused_until_stale(logged) -> None:  # type: ignore[no-untyped-def]
    from station.ui.view_models.shift_vm import summarize

    db, _, _ = logged
    now = time.time()
    first = summarize(db, SCHEDULE, now, 7.0)
    again = summarize(db, SCHEDULE, now + 1, 7.0, first)
    assert again.past is first.past and again.past_read_utc == first.past_read_utc
    stale = summarize(db, SCHEDULE, now + 301, 7.0, first)
    assert stale.past_read_utc == now + 301
    # Within five minutes of a shift change the shift that just ended joins the past ones.
    ended = SCHEDULE.shift_at(now)
    crossed = SCHEDULE.shift_at(now + 301).id != ended.id
    expected = {s.id for s in first.past} | ({ended.id} if crossed else set())
    assert {s.id for s in stale.past} == expected


def test_shift_tab_opens_a_part_and_refreshes_after_a_confirmation(qtbot, logged) -> None:  # type: ignore[no-untyped-def]
    from station.ui.widgets.shift_tab import ShiftTab

    db, log, rows = logged
    shift_vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    part_vm = PartDetailViewModel(db, confirm_sink=log, operator="anna")
    tab = ShiftTab(shift_vm, part_vm)
    qtbot.addWidget(tab)
    try:
        qtbot.waitUntil(lambda: shift_vm.summary is not None, timeout=10000)
        row = next(
            r
            for r in range(tab.panel.recent_table.rowCount())
            if tab.panel.recent_table.item(r, 1).text() == "1"
        )
        tab.panel.recent_table.cellDoubleClicked.emit(row, 0)
        assert part_vm.part is not None and part_vm.part.row_id == rows["reject"]
        tab.detail.good_button.click()  # a rejected part that was good: scrap
        qtbot.waitUntil(
            lambda: (
                shift_vm.summary is not None
                and shift_vm.summary.current.confirmed.get("scrap") == 1
            ),
            timeout=10000,
        )
        assert tab.panel.values["scrap"].text() == "1"
    finally:
        tab.close_models()
