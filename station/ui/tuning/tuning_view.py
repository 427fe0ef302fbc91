"""The tuning tab: sliders on the left, what they cost on the right.

Layout and wiring only: every number comes from `TuningViewModel` snapshots. The
sample row, the threshold column, the readouts, the plot and the changed parts are
panels of their own; here are the banner and the buttons. Anyone can look and drag;
applying asks for the supervisor PIN and a reason.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from station.ui.tuning.apply_dialog import ApplyDialog
from station.ui.tuning.changed_parts import ChangedPartsPanel
from station.ui.tuning.figures import Curves, Figures
from station.ui.tuning.promote_panel import PromotePanel
from station.ui.tuning.promote_vm import ModelPromoter
from station.ui.tuning.readouts import FiguresPanel, LivePanel
from station.ui.tuning.sample_panel import SamplePanel
from station.ui.tuning.thresholds_panel import ThresholdsPanel
from station.ui.tuning.tradeoff_plot import TradeoffPlot
from station.ui.tuning.tuning_vm import TuningViewModel

BANNER_STYLE = "background: #fff3cd; color: #5c4400; padding: 6px; border: 1px solid #e0c36a;"


class TuningView(QWidget):
    """`ask_apply` is injectable (tests): it returns (who, pin, reason) or None when cancelled."""

    def __init__(
        self,
        vm: TuningViewModel,
        parent: QWidget | None = None,
        ask_apply: Callable[[str, bool], tuple[str, str, str] | None] | None = None,
        auto_load: bool = True,
        promoter: ModelPromoter | None = None,
    ):
        """With a `promoter` the tab also promotes a candidate model or rolls it back."""
        super().__init__(parent)
        self.vm = vm
        self.auto_load = auto_load
        self.ask_apply = ask_apply or self._ask_apply_dialog
        self._changing_model = False  # a promotion or rollback in flight: no apply meanwhile

        # -- banner and sample row
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(False)
        self.sample_panel = SamplePanel(vm)
        self.sample_combo = self.sample_panel.sample_combo
        self.sample_size = self.sample_panel.sample_size
        self.progress = self.sample_panel.progress
        self.btn_cancel = self.sample_panel.btn_cancel

        # -- left: sliders + actions
        self.thresholds = ThresholdsPanel(vm)
        self.sliders = self.thresholds.sliders
        self.size_controls = self.thresholds.size_controls
        self.btn_min_cost = QPushButton("Minimum cost")
        self.btn_cap = QPushButton("Least scrap, escapes ≤ cap")
        self.btn_revert = QPushButton("Back to saved")
        self.btn_apply = QPushButton("Apply…")
        self.btn_undo = QPushButton("Undo last change…")
        self.btn_apply.setStyleSheet("font-weight: bold;")
        buttons = QGridLayout()
        buttons.addWidget(self.btn_min_cost, 0, 0)
        buttons.addWidget(self.btn_cap, 0, 1)
        buttons.addWidget(self.btn_revert, 1, 0)
        buttons.addWidget(self.btn_apply, 1, 1)
        buttons.addWidget(self.btn_undo, 2, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(QLabel("<b>Thresholds</b> (drag, or focus and use ←/→, PgUp/PgDn)"))
        left_lay.addWidget(self.thresholds, 1)
        left_lay.addLayout(buttons)
        self.promoter = promoter
        self.promote_panel: PromotePanel | None = None
        if promoter is not None:
            self.promote_panel = PromotePanel(promoter)
            left_lay.addWidget(self.promote_panel)
            promoter.message.connect(self.message.setText)
            promoter.busy.connect(self._on_busy)
            # One writer of the recipe file at a time: a model change or a threshold change.
            promoter.busy.connect(self._on_model_change)
            vm.applier.busy.connect(self.promote_panel.block)
        left_lay.addWidget(self.message)

        # -- right: figures, plots, changed parts; the live line under the sliders
        self.figures = FiguresPanel()
        self.escape_label = self.figures.escape_label
        self.scrap_label = self.figures.scrap_label
        self.cost_label = self.figures.cost_label
        self.plot = TradeoffPlot()
        self.changed = ChangedPartsPanel(vm)
        self.live = LivePanel(vm)
        self.live_label = self.live.live_label
        self.drift_label = self.live.drift_label
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.figures)
        right_lay.addWidget(self.plot, 1)
        right_lay.addWidget(self.changed)
        left_lay.addWidget(self.live)  # the slider column has room; the plots get the height

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 1000])
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addWidget(self.sample_panel)
        lay.addWidget(split, 1)
        self._wire()

    def _wire(self) -> None:
        vm = self.vm
        vm.point_moved.connect(self._on_point)
        vm.curves_changed.connect(self._on_curves)
        vm.sample_changed.connect(self._on_sample)
        vm.saved_changed.connect(self._on_saved)
        vm.banner_changed.connect(self._on_banner)
        vm.message.connect(self.message.setText)
        vm.busy.connect(self._on_busy)
        vm.sizes_changed.connect(self._on_sizes)
        self.btn_min_cost.clicked.connect(vm.recommend_min_cost)
        self.btn_cap.clicked.connect(vm.recommend_escape_cap)
        self.btn_revert.clicked.connect(vm.revert)
        self.btn_apply.clicked.connect(self._apply)
        self.btn_undo.clicked.connect(self._undo)
        cap = vm.costs.max_escape_rate
        self.btn_cap.setText(
            f"Least scrap, escapes ≤ {100 * cap:g}%" if cap is not None else "Least scrap (no cap)"
        )
        self.btn_cap.setEnabled(cap is not None)
        self._on_banner(vm.banner)
        self.sample_panel.list_samples(vm.sample_entries())
        self._on_sizes()  # updates the buttons too
        if vm.loaded is not None:
            self._on_sample()
            vm.refresh(force_curves=True)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        """With `auto_load`, the first sample (the shipped one) is scored when first shown."""
        super().showEvent(event)
        if self.auto_load and self.vm.loaded is None and not self.vm.runner.running:
            self.auto_load = False
            self.vm.load_default_sample()

    # -- view-model -> widgets
    @Slot()
    def _on_sizes(self) -> None:
        self.thresholds.show_sizes()
        self._update_buttons()

    @Slot(object)
    def _on_point(self, f: Figures) -> None:
        self.figures.show_figures(f)
        self.thresholds.show_selected(f.selected)
        self.plot.show_point(f)
        self.changed.show_figures(f)
        self._update_buttons()

    @Slot(object)
    def _on_curves(self, c: Curves) -> None:
        self.plot.show_curves(c)

    @Slot()
    def _on_sample(self) -> None:
        loaded = self.vm.loaded
        if loaded is None:
            return
        self.sample_panel.show_sample(loaded)
        problem = self.vm.ranking_problem
        self.btn_min_cost.setEnabled(problem is None)
        self.btn_cap.setEnabled(problem is None and self.vm.costs.max_escape_rate is not None)
        if problem:
            self.message.setText(problem)

    @Slot()
    def _on_saved(self) -> None:
        self.thresholds.show_saved()
        self._update_buttons()

    @Slot(str)
    def _on_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    @Slot(bool, str)
    def _on_busy(self, busy: bool, text: str) -> None:
        self.sample_panel.show_busy(busy, text)
        if text and not busy:
            self.message.setText(text)

    @Slot(bool, str)
    def _on_model_change(self, busy: bool, _text: str) -> None:
        self._changing_model = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        offered = self.vm.actions(self._changing_model)
        self.btn_apply.setEnabled(offered.apply)
        self.btn_apply.setToolTip(offered.apply_tip)
        self.btn_undo.setEnabled(offered.undo)
        self.btn_revert.setEnabled(offered.revert)

    # -- user actions
    def _ask_apply_dialog(self, summary: str, first_use: bool) -> tuple[str, str, str] | None:
        dlg = ApplyDialog(summary, first_use, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.values()

    def _apply(self) -> None:
        answer = self.ask_apply(self.vm.apply_summary(), not self.vm.pin_is_set())
        if answer is not None:
            self.vm.apply(*answer)
        self._update_buttons()

    def _undo(self) -> None:
        answer = self.ask_apply("Undo: go back to the thresholds before the last change.", False)
        if answer is not None:
            self.vm.undo(*answer)
        self._update_buttons()
