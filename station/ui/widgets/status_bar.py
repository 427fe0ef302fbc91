"""The status line: camera, model, thresholds, inference latency, score drift, the last fault."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QWidget

from station.core.drift import DriftReport
from station.core.ports import ModelInfo
from station.pipeline.results import CameraState, CameraStatus

OK_STYLE = "color: #202124;"
WARN_STYLE = "color: #000000; background: #fde293; border-radius: 4px; padding: 2px 6px;"
BAD_STYLE = "color: #ffffff; background: #c5221f; border-radius: 4px; padding: 2px 6px;"


def camera_text(status: CameraStatus, kind: str = "") -> tuple[str, str]:
    """(text, style) for the camera part of the status line."""
    info = status.info
    if status.state is CameraState.CONNECTED and info is not None:
        size = f" · {info.width}×{info.height}" if info.width and info.height else ""
        fps = f" · {info.fps:.1f} fps" if info.fps else ""
        return f"Camera: {info.name}{size}{fps} · connected", OK_STYLE
    if status.state is CameraState.LOST:
        return f"Camera{_kind(kind)}: LOST — reconnecting (attempt {status.attempt})", BAD_STYLE
    if status.state is CameraState.CONNECTING:
        return f"Camera{_kind(kind)}: connecting…", WARN_STYLE
    if status.state is CameraState.FAULT:
        return f"Camera{_kind(kind)}: FAULT — configuration refused, inspection stopped", BAD_STYLE
    return f"Camera{_kind(kind)}: stopped", OK_STYLE


def _kind(kind: str) -> str:
    return f" ({kind})" if kind else ""


def model_text(model: ModelInfo) -> str:
    names = ", ".join(model.class_names)
    return (
        f"Model: {Path(model.path).name} · sha256 {model.sha256[:8]} · "
        f"{len(model.class_names)} classes ({names}) · {model.execution_provider}"
    )


def thresholds_text(recipe_name: str, need_retuning: bool) -> tuple[str, str]:
    if need_retuning:
        return (
            f"Thresholds: {recipe_name} · thresholds need re-tuning (tuned on another model)",
            WARN_STYLE,
        )
    return f"Thresholds: {recipe_name} · tuned on this model", OK_STYLE


def drift_text(report: DriftReport) -> str:
    """The drift line while the live scores have drifted from the tuning sample ("" if not)."""
    if not report.alarm:
        return ""
    return f"⚠ {report.message[:1].upper()}{report.message[1:]}. Re-tune on a recent sample."


def _label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return label


class StationStatusBar(QFrame):
    """Two rows of plain facts; the view-model decides, this only formats."""

    def __init__(
        self,
        model: ModelInfo,
        recipe_name: str,
        camera_kind: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("StationStatusBar")
        self.setStyleSheet("#StationStatusBar QLabel { font-size: 16px; }")
        self._camera_kind = camera_kind
        self._recipe_name = recipe_name
        self.camera = _label(self)
        self.model = _label(self)
        self.model.setText(model_text(model))
        self.thresholds = _label(self)
        self.latency = _label(self)
        self.latency.setText("Inference: – ms")
        self.drift = _label(self)
        self.drift.setStyleSheet(WARN_STYLE)
        self.drift.setVisible(False)
        self.fault = _label(self)
        self.fault.setVisible(False)
        self.central = _label(self)  # the forwarder's backlog, when a central database is set
        self.central.setVisible(False)
        self.plc = _label(self)  # the PLC link, when the recipe has a [plc] table
        self.plc.setVisible(False)
        self.shadow = _label(self)  # a [shadow] candidate's thresholds bound to no model
        self.shadow.setStyleSheet(WARN_STYLE)
        self.shadow.setVisible(False)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.camera, 0, 0)
        grid.addWidget(self.latency, 0, 1)
        grid.addWidget(self.thresholds, 0, 2)
        grid.addWidget(self.model, 1, 0, 1, 3)
        grid.addWidget(self.drift, 2, 0, 1, 3)
        grid.addWidget(self.fault, 3, 0, 1, 3)
        grid.addWidget(self.central, 4, 0, 1, 3)
        grid.addWidget(self.plc, 5, 0, 1, 3)
        grid.addWidget(self.shadow, 6, 0, 1, 3)
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 4)
        self.show_camera(CameraStatus(CameraState.STOPPED))
        self.show_thresholds(False)

    def show_camera(self, status: CameraStatus) -> None:
        text, style = camera_text(status, self._camera_kind)
        self.camera.setText(text)
        self.camera.setStyleSheet(style)
        self.camera.setToolTip(status.message)

    def show_thresholds(self, need_retuning: bool) -> None:
        text, style = thresholds_text(self._recipe_name, need_retuning)
        self.thresholds.setText(text)
        self.thresholds.setStyleSheet(style)

    @Slot(object)
    def show_drift(self, report: DriftReport) -> None:
        """The tuning view-model's drift report (every live part): shown while it alarms."""
        text = drift_text(report)
        if text != self.drift.text():  # a report comes with every part: touch Qt on change only
            self.drift.setText(text)
            self.drift.setToolTip(report.message)
            self.drift.setVisible(bool(text))

    @Slot(str, str, str)
    def show_central(self, text: str, level: str, details: str) -> None:
        """The central database's backlog ("ok", "warn" or "bad"), from CentralStatusViewModel."""
        self.central.setText(text)
        self.central.setToolTip(details)
        self.central.setStyleSheet({"warn": WARN_STYLE, "bad": BAD_STYLE}.get(level, OK_STYLE))
        self.central.setVisible(bool(text))

    @Slot(str, str)
    def show_plc(self, text: str, level: str) -> None:
        """The PLC link ("ok", "warn" or "bad"), from PlcStatusViewModel."""
        self.plc.setText(text)
        self.plc.setStyleSheet({"warn": WARN_STYLE, "bad": BAD_STYLE}.get(level, OK_STYLE))
        self.plc.setVisible(bool(text))

    def show_shadow_warning(self, text: str) -> None:
        """A `[shadow]` candidate whose thresholds need re-tuning (the recipe's field named)."""
        self.shadow.setText(f"Shadow: {text}" if text else "")
        self.shadow.setToolTip(text)
        self.shadow.setVisible(bool(text))

    def show_latency(self, latency_ms: float) -> None:
        self.latency.setText(f"Inference: {latency_ms:.1f} ms")

    def show_fault(self, message: str) -> None:
        first = message.splitlines()[0] if message else ""
        when = datetime.now().strftime("%H:%M:%S")  # the last fault may be an old one
        self.fault.setText(f"⚠ {when} {first}")
        self.fault.setToolTip(message)
        self.fault.setStyleSheet(BAD_STYLE)
        self.fault.setVisible(bool(first))
