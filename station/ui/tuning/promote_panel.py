"""The tuning tab's model buttons: promote a candidate qualified by `station compare`, or
roll the last promotion back. Layout and dialogs only: `ModelPromoter` does the work.

Promote: pick the compare report (and the candidate file, pre-filled from the report),
the promoter checks them off the GUI thread; only a candidate that passes the CLI's rules
comes back, and its verdict, re-derived thresholds and rates are shown with the PIN,
who and why before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog, QFileDialog, QGroupBox, QHBoxLayout, QPushButton, QWidget

from station.services.promotion import ModelChange
from station.ui.tuning.apply_dialog import ApplyDialog
from station.ui.tuning.promote_vm import (
    ModelPromoter,
    candidate_named_in,
    default_reason,
    promotion_summary,
    rollback_summary,
)

Answer = tuple[str, str, str]  # who, pin, reason
Ask = Callable[[str, bool, str, str], Answer | None]  # summary, first use, title, reason
Pick = Callable[[], tuple[Path, Path] | None]  # (compare report, candidate)


class PromotePanel(QGroupBox):
    """`pick` and `ask` are injectable (tests): `pick()` returns (report, candidate) or None;
    `ask(summary, first_use, title, reason)` returns (who, pin, reason) or None."""

    def __init__(
        self,
        promoter: ModelPromoter,
        parent: QWidget | None = None,
        pick: Pick | None = None,
        ask: Ask | None = None,
    ) -> None:
        super().__init__("Model", parent)
        self.promoter = promoter
        self.pick = pick or self._pick_files
        self.ask = ask or self._ask_dialog
        self.btn_promote = QPushButton("Promote model…")
        self.btn_promote.setToolTip(
            "switch the recipe to a candidate model qualified by `station compare` "
            "(supervisor PIN, audited)"
        )
        self.btn_rollback = QPushButton("Roll back model…")
        self.btn_rollback.setToolTip("restore the recipe as it was before the last promotion")
        row = QHBoxLayout(self)
        row.addWidget(self.btn_promote)
        row.addWidget(self.btn_rollback)
        self.btn_promote.clicked.connect(self._promote)
        self.btn_rollback.clicked.connect(self._roll_back)
        promoter.planned.connect(self._confirm)
        promoter.busy.connect(self._on_busy)
        self._busy = self._blocked = False
        self._update()

    @Slot(bool, str)
    def _on_busy(self, busy: bool, _text: str) -> None:
        self._busy = busy
        self._update()

    @Slot(bool, str)
    def block(self, blocked: bool, _text: str = "") -> None:
        """While thresholds are being applied to the same recipe file, no model change."""
        self._blocked = blocked
        self._update()

    def _update(self) -> None:
        free = not self._busy and not self._blocked
        self.btn_promote.setEnabled(free)
        self.btn_rollback.setEnabled(free and self.promoter.can_roll_back)

    def _promote(self) -> None:
        picked = self.pick()
        if picked is not None:
            self.promoter.check(*picked)

    @Slot(object)
    def _confirm(self, change: ModelChange) -> None:
        first_use = not self.promoter.pin_is_set()
        answer = self.ask(
            promotion_summary(change), first_use, "Promote model", default_reason(change)
        )
        if answer is not None:
            self.promoter.promote(change, *answer)

    def _roll_back(self) -> None:
        summary = rollback_summary(self.promoter.recipe_path)
        answer = self.ask(summary, not self.promoter.pin_is_set(), "Roll back model", "")
        if answer is not None:
            self.promoter.roll_back(*answer)

    # -- the real dialogs
    def _pick_files(self) -> tuple[Path, Path] | None:
        report, _ = QFileDialog.getOpenFileName(
            self, "station compare --json report", "", "Compare reports (*.json);;All files (*)"
        )
        if not report:
            return None
        named = candidate_named_in(Path(report))
        candidate, _ = QFileDialog.getOpenFileName(
            self,
            "Candidate model (the file the report judged)",
            str(named) if named is not None else str(Path(report).parent),
            "ONNX models (*.onnx);;All files (*)",
        )
        return (Path(report), Path(candidate)) if candidate else None

    def _ask_dialog(self, summary: str, first_use: bool, title: str, reason: str) -> Answer | None:
        dlg = ApplyDialog(
            summary,
            first_use,
            self,
            title=title,
            action=title.split()[0],
            reason=reason,
            reason_hint="why this model change (required, goes to the audit trail)",
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.values()
