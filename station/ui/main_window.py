"""The operator window: layout and wiring only (state lives in StationViewModel)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from station import APP_NAME
from station.core.thresholds import ThresholdSet
from station.pipeline.results import PartResult
from station.ui.view_models.station_vm import StationViewModel
from station.ui.widgets.counters_panel import CountersPanel
from station.ui.widgets.live_view import LiveView
from station.ui.widgets.outcome_banner import OutcomeBanner
from station.ui.widgets.part_dialog import PartDialog
from station.ui.widgets.status_bar import StationStatusBar
from station.ui.widgets.threshold_panel import ThresholdPanel

GEOMETRY_KEY = "main_window/geometry"
SIDE_PANEL_PX = 580
NARROW_SIDE_PANEL_PX = 420
WIDE_SCREEN_PX = 1280


def default_settings() -> QSettings:
    return QSettings(APP_NAME, "station")


class MainWindow(QMainWindow):
    """Live view, banner, counters, thresholds, status; extra tabs are added by the app."""

    open_recipe_requested = Signal(str)

    def __init__(
        self, vm: StationViewModel, settings: QSettings | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.vm = vm
        self._settings = settings if settings is not None else default_settings()
        self._close_reason = "window closed"
        self._closers: list[Callable[[], object]] = []
        self.logged_part_opener: Callable[[int], QWidget] | None = None
        ctx = vm.context
        self.setWindowTitle(f"Inspection station — {ctx.product or ctx.recipe_name}")

        names = vm.class_names
        self.live_view = LiveView(names, poll=lambda: vm.latest_part)
        self.banner = OutcomeBanner()
        self.counters = CountersPanel(names)
        self.thresholds = ThresholdPanel(
            names,
            vm.thresholds,
            confidence_floor=ctx.model.confidence_floor,
            scores_rank=ctx.model.scores_rank,
        )
        self.status = StationStatusBar(ctx.model, ctx.recipe_name, ctx.camera_kind)

        side = QVBoxLayout()
        side.addWidget(self.banner)
        side.addWidget(self.counters)
        side.addWidget(self.thresholds)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        # A fixed width: the live view must not jump when the banner's text changes.
        wide = self.screen().availableGeometry().width() >= WIDE_SCREEN_PX
        side_widget.setFixedWidth(SIDE_PANEL_PX if wide else NARROW_SIDE_PANEL_PX)
        inspection = QWidget()
        row = QHBoxLayout(inspection)
        row.setContentsMargins(6, 6, 6, 6)
        row.addWidget(self.live_view, 1)
        row.addWidget(side_widget)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setStyleSheet("QTabBar::tab { font-size: 16px; padding: 6px 18px; }")
        self.tabs.addTab(inspection, "Inspection")
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.tabs, 1)
        col.addWidget(self.status)
        self.setCentralWidget(central)
        self._build_actions()
        self._wire()
        self._restore_geometry()

    # ---- construction -----------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.start_action = QAction("Start (F5)", self, shortcut=QKeySequence(Qt.Key.Key_F5))
        self.stop_action = QAction("Stop (F6)", self, shortcut=QKeySequence(Qt.Key.Key_F6))
        self.trigger_action = QAction(
            "Trigger one part (Space)", self, shortcut=QKeySequence(Qt.Key.Key_Space)
        )
        self.open_action = QAction(
            "Open recipe…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Open)
        )
        self.quit_action = QAction(
            "Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit)
        )
        for a, tip in (
            (self.start_action, "Start inspection (F5)"),
            (self.stop_action, "Stop inspection (F6)"),
            (self.trigger_action, "Inspect one part now, when stopped (Space)"),
        ):
            a.setToolTip(tip)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        toolbar = QToolBar("Inspection")
        toolbar.setObjectName("InspectionToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setStyleSheet("QToolButton { font-size: 18px; padding: 6px 14px; }")
        for a in (self.start_action, self.stop_action, self.trigger_action):
            toolbar.addAction(a)
        for button in toolbar.findChildren(QWidget):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addToolBar(toolbar)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        inspect_menu = self.menuBar().addMenu("&Inspection")
        for a in (self.start_action, self.stop_action, self.trigger_action):
            inspect_menu.addAction(a)

    def _wire(self) -> None:
        vm = self.vm
        self.start_action.triggered.connect(vm.start)
        self.stop_action.triggered.connect(vm.stop)
        self.trigger_action.triggered.connect(vm.trigger)
        self.open_action.triggered.connect(self._choose_recipe)
        self.quit_action.triggered.connect(self.close)
        vm.banner_changed.connect(self.banner.show_state)
        vm.counters_changed.connect(self.counters.show_counters)
        vm.rejects_changed.connect(lambda: self.counters.show_rejects(vm.recent_rejects))
        vm.camera_changed.connect(self.status.show_camera)
        vm.latency_changed.connect(self.status.show_latency)
        vm.fault_raised.connect(self.status.show_fault)
        vm.running_changed.connect(self._show_running)
        vm.thresholds_changed.connect(self.thresholds.show_thresholds)
        vm.thresholds_changed.connect(
            lambda _t: self.status.show_thresholds(vm.thresholds_need_retuning)
        )
        self.thresholds.apply_requested.connect(vm.apply_thresholds)
        self.counters.part_requested.connect(self.open_part)
        self.banner.show_state(vm.banner)
        self.counters.show_counters(vm.counters)
        self.counters.show_rejects(vm.recent_rejects)
        self.status.show_thresholds(vm.thresholds_need_retuning)
        self._show_running(vm.running)

    # ---- behaviour --------------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str) -> None:
        self.tabs.addTab(widget, title)

    def add_closer(self, close: Callable[[], object]) -> None:
        """Called when the window closes, before the inspection worker stops (extra tabs)."""
        self._closers.append(close)

    def route_threshold_apply(self, apply: Callable[[ThresholdSet], object]) -> None:
        """Send the side panel's Apply somewhere else (the supervisor's PIN flow)."""
        self.thresholds.apply_requested.disconnect(self.vm.apply_thresholds)
        self.thresholds.apply_requested.connect(apply)

    def open_part(self, part: PartResult) -> QWidget:
        """The logged part with its confirmation buttons when the log has it, else the frame."""
        dialog: QWidget
        if self.logged_part_opener is not None and part.row_id is not None and part.row_id > 0:
            dialog = self.logged_part_opener(part.row_id)
        else:
            dialog = PartDialog(part, self.vm.class_names, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()
        return dialog

    def open_part_row(self, row_id: int) -> QWidget | None:
        """A part of the log by its row id (the shift tab's lists)."""
        if self.logged_part_opener is None:
            return None
        dialog = self.logged_part_opener(row_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()
        return dialog

    def close_with_reason(self, reason: str) -> None:
        """Close as if the operator did, logging `reason` (e.g. "SIGTERM")."""
        self._close_reason = reason
        self.close()

    def _show_running(self, running: bool) -> None:
        self.start_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.trigger_action.setEnabled(not running)

    @Slot(str)
    def reopen_recipe(self, path: str) -> None:
        """Open `path` as File → Open recipe… does (a model promoted or rolled back), once
        the slot that asked has returned: the switch closes this window."""
        QTimer.singleShot(0, lambda: self.open_recipe_requested.emit(path))

    def _choose_recipe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open recipe", "", "Recipes (*.toml);;All files (*)"
        )
        if path:
            self.open_recipe_requested.emit(path)

    def _restore_geometry(self) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(QByteArray(geometry)):
            return
        self.resize(1560, 940)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.sync()
        for close in self._closers:
            close()
        self._closers.clear()
        self.vm.shutdown(self._close_reason)
        event.accept()
