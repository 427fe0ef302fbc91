"""Asks the supervisor for the PIN (set on first use) and a reason before thresholds change
(or, titled otherwise, before a model is promoted or rolled back)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)


class ApplyDialog(QDialog):
    """PIN + reason (+ who). With `first_use` it asks for a new PIN twice.

    The dialog only collects input; the view-model verifies the PIN and
    applies the change, so a wrong PIN is reported by the view-model.
    """

    def __init__(
        self,
        summary: str,
        first_use: bool,
        parent: QWidget | None = None,
        *,
        title: str = "Apply thresholds",
        action: str = "Apply",
        reason: str = "",
        reason_hint: str = "why these thresholds (required, goes to the audit trail)",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.first_use = first_use
        form = QFormLayout(self)
        head = QLabel(summary)
        head.setWordWrap(True)
        form.addRow(head)
        if first_use:
            note = QLabel("No supervisor PIN is set on this station yet: choose one (4-12 digits).")
            note.setWordWrap(True)
            form.addRow(note)
        self.who = QLineEdit()
        self.who.setPlaceholderText("supervisor name")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin_again = QLineEdit()
        self.pin_again.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_again.setMaxLength(12)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText(reason_hint)
        self.reason.setPlainText(reason)
        self.reason.setFixedHeight(60)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        form.addRow("Who", self.who)
        form.addRow("New PIN" if first_use else "PIN", self.pin)
        if first_use:
            form.addRow("Repeat PIN", self.pin_again)
        form.addRow("Reason", self.reason)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(action)
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _check(self) -> None:
        if not self.reason.toPlainText().strip():
            self.error.setText("A reason is required.")
            return
        if not self.who.text().strip():
            self.error.setText("Say who applies the change.")
            return
        if self.first_use and self.pin.text() != self.pin_again.text():
            self.error.setText("The two PINs differ.")
            return
        self.accept()

    def values(self) -> tuple[str, str, str]:
        """(who, pin, reason)."""
        return self.who.text().strip(), self.pin.text(), self.reason.toPlainText().strip()
