"""The tuning tab: sliders on the left, what they cost on the right.

Layout and wiring only: every number comes from `TuningViewModel` snapshots.
Anyone can look and drag; applying asks for the supervisor PIN and a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from station.services.tuning_samples import SampleEntry
from station.ui.tuning.apply_dialog import ApplyDialog
from station.ui.tuning.changed_parts import ChangedPartsPanel
from station.ui.tuning.class_slider import ClassSlider
from station.ui.tuning.figures import DEFAULT_KEY, Curves, Figures
from station.ui.tuning.promote_panel import PromotePanel
from station.ui.tuning.promote_vm import ModelPromoter
from station.ui.tuning.size_control import SizeControl
from station.ui.tuning.tradeoff_plot import TradeoffPlot
from station.ui.tuning.tuning_vm import TuningViewModel

BANNER_STYLE = "background: #fff3cd; color: #5c4400; padding: 6px; border: 1px solid #e0c36a;"
ALARM_STYLE = "background: #f8d7da; color: #6b0f1a; padding: 4px;"
BIG = "font-size: 15px;"


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
        self.sliders: dict[str, ClassSlider] = {}
        self.size_controls: dict[str, SizeControl] = {}
        self._changing_model = False  # a promotion or rollback in flight: no apply meanwhile

        # -- banner and sample row
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(False)
        self.sample_combo = QComboBox()
        self.sample_combo.setMinimumWidth(260)
        self.open_folder = QPushButton("Open YOLO folder…")
        self.sample_size = QLabel("no sample")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(280)
        self.progress.setMaximumWidth(360)
        self.progress.setVisible(False)
        self.btn_cancel = QPushButton("Cancel")
        self.btn_cancel.setToolTip("stop scoring the sample or searching thresholds")
        self.btn_cancel.setVisible(False)
        sample_row = QHBoxLayout()
        sample_row.addWidget(QLabel("Sample:"))
        sample_row.addWidget(self.sample_combo)
        sample_row.addWidget(self.open_folder)
        sample_row.addWidget(self.sample_size, 1)
        sample_row.addWidget(self.progress)
        sample_row.addWidget(self.btn_cancel)

        # -- left: sliders + actions
        slider_box = QWidget()
        self.slider_layout = QVBoxLayout(slider_box)
        self.slider_layout.setContentsMargins(0, 0, 0, 0)
        for name in vm.class_names:
            self._add_slider(name, name)
            self._add_size_control(name)
        self._add_slider(DEFAULT_KEY, "default")
        self.slider_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(slider_box)
        scroll.setMinimumWidth(340)
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
        left_lay.addWidget(scroll, 1)
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
        self._left_lay = left_lay

        # -- right: figures, plots, changed parts, live
        self.escape_label = QLabel("—")
        self.scrap_label = QLabel("—")
        self.cost_label = QLabel("—")
        self.per_class_label = QLabel()
        self.per_class_label.setStyleSheet("color: #444;")
        for lab in (self.escape_label, self.scrap_label, self.cost_label, self.per_class_label):
            if lab is not self.per_class_label:
                lab.setStyleSheet(BIG)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Text changes on every slider step: a fixed-height, width-ignoring label never
            # asks the window to re-lay out (which would resize and repaint the plots).
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            lab.setFixedHeight(lab.sizeHint().height())
        figures = QGroupBox("At the dragged thresholds, on the sample")
        fig_lay = QVBoxLayout(figures)
        fig_lay.addWidget(self.escape_label)
        fig_lay.addWidget(self.scrap_label)
        fig_lay.addWidget(self.cost_label)
        fig_lay.addWidget(self.per_class_label)
        self.plot = TradeoffPlot()
        self.changed = ChangedPartsPanel(vm)
        self.live_label = QLabel(vm.live_text())
        self.live_label.setWordWrap(True)
        self.drift_label = QLabel("drift: the live scores are compared with the tuning sample")
        self.drift_label.setWordWrap(True)
        live = QGroupBox("Live on the line (this shift)")
        live_lay = QVBoxLayout(live)
        live_lay.addWidget(self.live_label)
        live_lay.addWidget(self.drift_label)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(figures)
        right_lay.addWidget(self.plot, 1)
        right_lay.addWidget(self.changed)
        self._left_lay.addWidget(live)  # the slider column has room; the plots get the height

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 1000])
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addLayout(sample_row)
        lay.addWidget(split, 1)

        # -- wiring
        vm.point_moved.connect(self._on_point)
        vm.curves_changed.connect(self._on_curves)
        vm.sample_changed.connect(self._on_sample)
        vm.saved_changed.connect(self._on_saved)
        vm.dragged_reset.connect(self._sync_sliders)
        vm.banner_changed.connect(self._on_banner)
        vm.message.connect(self.message.setText)
        vm.busy.connect(self._on_busy)
        vm.progress.connect(self._on_progress)
        vm.live_changed.connect(self.live_label.setText)
        vm.drift_changed.connect(self._on_drift)
        vm.samples_listed.connect(self._on_samples_listed)
        vm.sizes_changed.connect(self._on_sizes)
        self.btn_cancel.clicked.connect(vm.cancel_jobs)
        self.btn_min_cost.clicked.connect(vm.recommend_min_cost)
        self.btn_cap.clicked.connect(vm.recommend_escape_cap)
        self.btn_revert.clicked.connect(vm.revert)
        self.btn_apply.clicked.connect(self._apply)
        self.btn_undo.clicked.connect(self._undo)
        self.open_folder.clicked.connect(self._pick_folder)
        self.sample_combo.activated.connect(self._choose_sample)
        cap = vm.costs.max_escape_rate
        self.btn_cap.setText(
            f"Least scrap, escapes ≤ {100 * cap:g}%" if cap is not None else "Least scrap (no cap)"
        )
        self.btn_cap.setEnabled(cap is not None)
        self._on_banner(vm.banner)
        self._on_samples_listed(vm.sample_entries())
        self._update_buttons()
        self._on_sizes()
        if vm.loaded is not None:
            self._on_sample()
            vm.refresh(force_curves=True)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        """With `auto_load`, the first sample (the shipped one) is scored when first shown."""
        super().showEvent(event)
        if self.auto_load and self.vm.loaded is None and not self.vm.runner.running:
            self.auto_load = False
            self.vm.load_default_sample()

    # -- construction helpers
    def _add_slider(self, key: str, label: str) -> None:
        s = ClassSlider(key, label, self.vm.threshold(key), self.vm.saved_threshold(key))
        s.moved.connect(self.vm.set_threshold)
        s.selected.connect(self.vm.select)
        self.sliders[key] = s
        self.slider_layout.addWidget(s)

    def _add_size_control(self, name: str) -> None:
        ctrl = SizeControl(name, self.vm.sizes.unit)
        ctrl.changed.connect(self.vm.set_size_rule)
        self.size_controls[name] = ctrl
        self.slider_layout.addWidget(ctrl)

    # -- view-model -> widgets
    @Slot()
    def _on_sizes(self) -> None:
        why = self.vm.size_problem
        now, saved = self.vm.sizes, self.vm.saved_sizes
        for name, ctrl in self.size_controls.items():
            ctrl.set_values(now.min_length.get(name, 0.0), now.min_area.get(name, 0.0))
            ctrl.set_saved(saved.min_length.get(name, 0.0), saved.min_area.get(name, 0.0))
            ctrl.setEnabled(why is None)
            ctrl.setToolTip(why or "")
        self._update_buttons()

    @Slot(object)
    def _on_point(self, f: Figures) -> None:
        self.escape_label.setText(f.escape_text)
        self.scrap_label.setText(f.scrap_text)
        self.cost_label.setText(f.cost_text)
        per = ", ".join(
            f"{name} {esc}/{n}" for name, (n, esc) in f.confusion.escapes_per_class.items() if n
        )
        nd = f.confusion.no_decision
        self.per_class_label.setText(
            f"escapes by class: {per or 'none labeled'}"
            + (f"; {nd} parts no decision (NaN score)" if nd else "")
        )
        for key, s in self.sliders.items():
            s.set_active(key == f.selected)
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
        self.sample_size.setText(f"{loaded.label}: {loaded.size_text}")
        problem = self.vm.ranking_problem
        self.btn_min_cost.setEnabled(problem is None)
        self.btn_cap.setEnabled(problem is None and self.vm.costs.max_escape_rate is not None)
        if problem:
            self.message.setText(problem)

    @Slot()
    def _on_saved(self) -> None:
        for key, s in self.sliders.items():
            s.set_saved(self.vm.saved_threshold(key))
        self._update_buttons()

    @Slot()
    def _sync_sliders(self) -> None:
        for key, s in self.sliders.items():
            s.set_value(self.vm.threshold(key))

    @Slot(str)
    def _on_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    @Slot(bool, str)
    def _on_busy(self, busy: bool, text: str) -> None:
        self.progress.setVisible(busy)
        self.btn_cancel.setVisible(busy and self.vm.cancellable)
        if busy:
            self.progress.setRange(0, 0)  # busy until the job reports how far it is
        self.progress.setFormat(text + " %v/%m" if busy else "")
        self.sample_combo.setEnabled(not busy)
        self.open_folder.setEnabled(not busy)
        if text and not busy:
            self.message.setText(text)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    @Slot(object)
    def _on_drift(self, report: object) -> None:
        msg = getattr(report, "message", str(report))
        alarm = bool(getattr(report, "alarm", False))
        self.drift_label.setText(msg)
        self.drift_label.setStyleSheet(ALARM_STYLE if alarm else "")

    @Slot(object)
    def _on_samples_listed(self, entries: list[SampleEntry]) -> None:
        self.sample_combo.blockSignals(True)
        self.sample_combo.clear()
        for e in entries:
            self.sample_combo.addItem(e.display, e)
        current = self.vm.loaded.label if self.vm.loaded is not None else None
        for i, e in enumerate(entries):
            if e.label == current:
                self.sample_combo.setCurrentIndex(i)
        self.sample_combo.blockSignals(False)

    @Slot(bool, str)
    def _on_model_change(self, busy: bool, _text: str) -> None:
        self._changing_model = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        differs = self.vm.dragged.to_dict() != self.vm.saved.to_dict()
        needs = bool(self.vm.banner)
        free = not self._changing_model
        self.btn_apply.setEnabled(self.vm.can_apply and (differs or needs) and free)
        self.btn_apply.setToolTip(
            "" if self.vm.can_apply else "applying needs the station's recipe and log"
        )
        self.btn_undo.setEnabled(self.vm.can_undo and free)
        self.btn_revert.setEnabled(differs or self.vm.sizes != self.vm.saved_sizes)

    # -- user actions
    @Slot(int)
    def _choose_sample(self, index: int) -> None:
        entry = self.sample_combo.itemData(index)
        if isinstance(entry, SampleEntry):
            self.vm.load_sample(entry)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "YOLO sample folder (images/, labels/)")
        if folder:
            self.vm.load_sample(SampleEntry.folder(Path(folder)))

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
