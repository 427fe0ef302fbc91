"""The shift as the log tells it: counters, yield, reject reasons, past shifts.

Display only: every figure comes from `ShiftViewModel.summary` (computed in
`station.storage.reports`), headed by a warning when the audit chain under
them is broken (`station.storage.integrity`, as `station report` says it).
Double-clicking a recent reject asks for its detail through `part_requested(row_id)`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.core.shift_report import ShiftReport
from station.storage.integrity import LogCheck
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shadow_box import ShadowBox

COUNTERS: tuple[tuple[str, str], ...] = (
    ("inspected", "Inspected"),
    ("passed", "Passed"),
    ("rejected", "Rejected"),
    ("no_decision", "No decision"),
    ("yield", "Yield"),
    ("escapes", "Confirmed escapes"),
    ("scrap", "Confirmed scrap"),
)
PAST_COLUMNS = (
    "Shift", "Start", "Inspected", "Passed", "Rejected", "No decision", "Yield",
    "Top reject classes", "Escapes", "Scrap", "Threshold changes",
)  # fmt: skip


def yield_text(report: ShiftReport) -> str:
    y = report.yield_
    return "–" if y is None else f"{100 * y:.1f} %"


def local_hhmm(
    t_utc: float | None, zone: str, with_date: bool = False, seconds: bool = False
) -> str:
    """Wall-clock time in the station's zone (shift bounds, part times)."""
    if t_utc is None:
        return "?"
    local = datetime.fromtimestamp(t_utc, UTC).astimezone(ZoneInfo(zone))
    fmt = "%H:%M:%S" if seconds else "%H:%M"
    return local.strftime(f"%a %d %b {fmt}" if with_date else fmt)


def counter_values(report: ShiftReport) -> dict[str, str]:
    return {
        "inspected": str(report.inspected),
        "passed": str(report.passed),
        "rejected": str(report.rejected),
        "no_decision": str(report.no_decision),
        "yield": yield_text(report),
        "escapes": str(report.confirmed.get("escapes", 0)),
        "scrap": str(report.confirmed.get("scrap", 0)),
    }


def chain_warning(check: LogCheck | None, db: Path) -> str:
    """What the operator reads when the log under the figures was edited ("" when intact)."""
    if check is None or check.ok:
        return ""
    return (
        f"WARNING: AUDIT CHAIN BROKEN ({check.where()}): rows under these figures were edited "
        f"after they were logged, so they cannot be trusted. Check the log with "
        f"`station audit verify --db {db}`."
    )


def readonly_item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def make_table(headers: tuple[str, ...] | list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ShiftPanel(QFrame):
    """Current shift counters, reject reasons by class, recent rejects, past shifts."""

    part_requested = Signal(int)  # row id of a logged part

    def __init__(self, vm: ShiftViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setObjectName("ShiftPanel")
        self.setStyleSheet(
            "#ShiftPanel QLabel[role='value'] { font-size: 28px; font-weight: 700; }"
            "#ShiftPanel QLabel[role='caption'] { font-size: 14px; color: #5f6368; }"
            "#ShiftPanel QLabel[role='title'] { font-size: 20px; font-weight: 600; }"
        )
        self.title = QLabel("Shift: reading the log…")
        self.title.setProperty("role", "title")
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c5221f; font-weight: 600;")
        self.error_label.hide()
        self.chain_label = QLabel("")
        self.chain_label.setWordWrap(True)
        self.chain_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chain_label.setStyleSheet(
            "background: #c5221f; color: white; font-weight: 700; padding: 6px;"
        )
        self.chain_label.hide()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(vm.refresh_all)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(refresh)

        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for i, (name, caption) in enumerate(COUNTERS):
            value = QLabel("–")
            value.setProperty("role", "value")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cap = QLabel(caption)
            cap.setProperty("role", "caption")
            cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(value, 0, i)
            grid.addWidget(cap, 1, i)
            self.values[name] = value
        self.values["rejected"].setStyleSheet("color: #c5221f;")
        self.values["no_decision"].setStyleSheet("color: #b06000;")
        self.values["passed"].setStyleSheet("color: #188038;")

        self.reasons_table = make_table(("Reason", "Parts"))
        reasons_box = QGroupBox("Reject reasons this shift")
        QVBoxLayout(reasons_box).addWidget(self.reasons_table)
        self.recent_table = make_table(("Time", "Part", "Outcome", "Why", "Confirmed"))
        self.recent_table.cellDoubleClicked.connect(self._on_recent_clicked)
        recent_box = QGroupBox("Latest rejects and no-decisions (double-click to open)")
        QVBoxLayout(recent_box).addWidget(self.recent_table)
        middle = QHBoxLayout()
        middle.addWidget(reasons_box, 1)
        middle.addWidget(recent_box, 2)

        self.past_table = make_table(PAST_COLUMNS)
        past_box = QGroupBox("Past shifts")
        QVBoxLayout(past_box).addWidget(self.past_table)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.error_label)
        layout.addWidget(self.chain_label)
        layout.addLayout(grid)
        layout.addLayout(middle, 1)
        self.shadow_box = ShadowBox()
        self.shadow_box.part_requested.connect(self.part_requested)
        layout.addWidget(self.shadow_box, 1)
        layout.addWidget(past_box, 1)
        vm.changed.connect(self._update)
        self._update()

    @Slot()
    def _update(self) -> None:
        self.error_label.setVisible(bool(self.vm.error))
        self.error_label.setText(self.vm.error)
        summary = self.vm.summary
        if summary is None:
            return
        check = self.vm.chain.check
        warning = chain_warning(check, self.vm.db_path)
        self.chain_label.setText(warning)
        self.chain_label.setToolTip("\n".join(t.line() for t in check.broken) if check else "")
        self.chain_label.setVisible(bool(warning))
        cur, zone = summary.current, summary.zone
        self.title.setText(
            f"Shift {cur.name} · {cur.id.split('/')[0]} · "
            f"{local_hhmm(cur.start_utc, zone)}–{local_hhmm(cur.end_utc, zone)} ({zone})"
        )
        for name, text in counter_values(cur).items():
            self.values[name].setText(text)
        reasons = [(c, n) for c, n in cur.rejects_by_class.items()]
        reasons += [(f"no decision: {w}", n) for w, n in cur.no_decision_reasons.items()]
        self.reasons_table.setRowCount(len(reasons))
        for r, (what, n) in enumerate(reasons):
            self.reasons_table.setItem(r, 0, readonly_item(what))
            self.reasons_table.setItem(r, 1, readonly_item(str(n), True))
        self.recent_table.setRowCount(len(summary.recent))
        for r, line in enumerate(summary.recent):
            confirmed = {None: "", True: "defective", False: "good"}[line.confirmed]
            cells = (
                local_hhmm(line.time_utc, zone)
                + datetime.fromtimestamp(line.time_utc).strftime(":%S"),
                str(line.sequence),
                line.outcome.value,
                line.summary,
                confirmed,
            )
            for c, text in enumerate(cells):
                item = readonly_item(text, c == 1)
                item.setData(Qt.ItemDataRole.UserRole, line.row_id)
                self.recent_table.setItem(r, c, item)
        self.shadow_box.show_shift(cur.shadow, summary.disagreements, zone)
        self.past_table.setRowCount(len(summary.past))
        for r, s in enumerate(summary.past):
            top = ", ".join(f"{c} {n}" for c, n in list(s.rejects_by_class.items())[:3])
            past_cells = (
                s.id, local_hhmm(s.start_utc, zone, with_date=True), str(s.inspected),
                str(s.passed), str(s.rejected), str(s.no_decision), yield_text(s), top,
                str(s.confirmed.get("escapes", 0)), str(s.confirmed.get("scrap", 0)),
                str(len(s.threshold_changes)),
            )  # fmt: skip
            for c, text in enumerate(past_cells):
                self.past_table.setItem(r, c, readonly_item(text, c >= 2 and c != 7))

    @Slot(int, int)
    def _on_recent_clicked(self, row: int, _column: int) -> None:
        item = self.recent_table.item(row, 0)
        if item is not None:
            self.part_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))
