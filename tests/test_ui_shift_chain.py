"""The Shift tab warns, as `station report` does, when the log under its figures was edited.

A real log is tampered with through the sqlite3 module (as someone with the sqlite3
shell would), and a real Shift tab is read offscreen.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton
from shift_support import SCHEDULE
from storage_support import make_inspection

from station.cli import main
from station.storage.integrity import LogCheck
from station.ui.view_models import chain_vm, shift_vm
from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shift_tab import ShiftTab


@pytest.fixture
def tab(qtbot, logged) -> Iterator[ShiftTab]:  # type: ignore[no-untyped-def]
    db, log, _ = logged
    view = ShiftTab(ShiftViewModel(db, SCHEDULE, refresh_s=3600), PartDetailViewModel(db, log))
    qtbot.addWidget(view)
    yield view
    view.close_models()


def _sql(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _read(qtbot, tab: ShiftTab) -> LogCheck:  # type: ignore[no-untyped-def]
    chain = tab.shift_vm.chain
    qtbot.waitUntil(lambda: chain.check is not None and not chain.busy, timeout=10000)
    assert chain.check is not None
    return chain.check


def test_an_intact_log_shows_no_warning(qtbot, tab: ShiftTab) -> None:  # type: ignore[no-untyped-def]
    assert _read(qtbot, tab).ok
    assert tab.panel.chain_label.isHidden()


@pytest.mark.parametrize(
    ("which", "tamper"),
    [
        ("reject", "UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = {id}"),
        ("old", "UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = {id}"),
        ("pass", "DELETE FROM inspections WHERE id = {id}"),
    ],
    ids=["reject-flipped-to-pass", "past-shift-edited", "row-deleted"],
)
def test_an_edit_made_with_sqlite3_shows_the_warning_the_report_gives(  # type: ignore[no-untyped-def]
    qtbot, logged, tab: ShiftTab, capsys: pytest.CaptureFixture[str], which: str, tamper: str
) -> None:
    db, _, rows = logged
    assert _read(qtbot, tab).ok
    _sql(db, tamper.format(id=rows[which]))
    refresh = next(b for b in tab.panel.findChildren(QPushButton) if b.text() == "Refresh")
    refresh.click()
    qtbot.waitUntil(lambda: not tab.panel.chain_label.isHidden(), timeout=10000)
    check = _read(qtbot, tab)
    assert not check.ok
    label = tab.panel.chain_label
    assert label.text().startswith(f"WARNING: AUDIT CHAIN BROKEN ({check.where()})")
    assert "inspections row" in label.text() and f"station audit verify --db {db}" in label.text()
    # The same check, the same words as `station report` on the same log.
    assert main(["report", "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["chain"]
    assert report["intact"] is False
    assert label.toolTip().splitlines() == report["problems"]


def test_the_check_runs_on_the_job_thread_not_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, _ = logged
    threads: list[threading.Thread] = []
    real = chain_vm.verify_under

    def spy(conn: sqlite3.Connection, shift_ids: list[str] | None) -> LogCheck:
        threads.append(threading.current_thread())
        return real(conn, shift_ids)

    monkeypatch.setattr(chain_vm, "verify_under", spy)
    vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    try:
        qtbot.waitUntil(lambda: vm.chain.check is not None, timeout=10000)
    finally:
        vm.close()
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_the_check_runs_after_the_first_read_and_on_refresh_not_every_refresh(  # type: ignore[no-untyped-def]
    qtbot, logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, _ = logged
    calls: list[list[str] | None] = []
    real = chain_vm.verify_under

    def counting(conn: sqlite3.Connection, shift_ids: list[str] | None) -> LogCheck:
        calls.append(shift_ids)
        return real(conn, shift_ids)

    monkeypatch.setattr(chain_vm, "verify_under", counting)
    vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    try:
        qtbot.waitUntil(lambda: vm.chain.check is not None and not vm.chain.busy, timeout=10000)
        assert vm.summary is not None and calls == [list(vm.summary.shift_ids)]
        assert len(vm.summary.shift_ids) == 2  # this shift and the one before
        before = vm.summary.read_utc
        vm.refresh()  # the five-second refresh of the counters
        qtbot.waitUntil(lambda: vm.summary is not None and vm.summary.read_utc > before)
        qtbot.waitUntil(lambda: not vm.busy)
        assert len(calls) == 1
        vm.refresh_all()  # Refresh, or a confirmation
        qtbot.waitUntil(lambda: len(calls) == 2 and not vm.chain.busy, timeout=10000)
    finally:
        vm.close()


def test_a_station_logging_meanwhile_is_not_taken_for_an_edit(logged) -> None:  # type: ignore[no-untyped-def]
    """A row and its chain head commit together; a check must never see one without the
    other (it used to, about once in fifty checks, and cried "rows were added")."""
    db, log, _ = logged
    stop = threading.Event()

    def station() -> None:
        seq = 10
        while not stop.is_set():
            log.record(make_inspection(seq, time.time(), scores={"dent": 0.7}))
            seq += 1

    writer = threading.Thread(target=station)
    writer.start()
    try:
        shown = shift_vm.summarize(db, SCHEDULE, time.time(), 7.0).shift_ids
        checks = [chain_vm.check_chain(db, shown) for _ in range(100)]
    finally:
        stop.set()
        writer.join()
    broken = [c.where() for c in checks if not c.ok]
    assert broken == []
