"""The tuning tab's sample row: which sample, a folder to score, its size, the job's progress.

Choosing a sample (or a YOLO folder) asks the view-model to score it off the GUI
thread. While a job runs (scoring, a threshold search, a PIN check) the row shows
a busy bar and no other sample can be chosen; Cancel is offered only for a job
that can be cut short (`TuningViewModel.cancellable`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from station.services.tuning_samples import LoadedSample, SampleEntry
from station.ui.tuning.tuning_vm import TuningViewModel


class SamplePanel(QWidget):
    def __init__(self, vm: TuningViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
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
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Sample:"))
        row.addWidget(self.sample_combo)
        row.addWidget(self.open_folder)
        row.addWidget(self.sample_size, 1)
        row.addWidget(self.progress)
        row.addWidget(self.btn_cancel)
        vm.progress.connect(self.show_progress)
        vm.samples_listed.connect(self.list_samples)
        self.btn_cancel.clicked.connect(vm.cancel_jobs)
        self.open_folder.clicked.connect(self._pick_folder)
        self.sample_combo.activated.connect(self._choose_sample)

    def show_sample(self, loaded: LoadedSample) -> None:
        self.sample_size.setText(f"{loaded.label}: {loaded.size_text}")

    def show_busy(self, busy: bool, text: str) -> None:
        self.progress.setVisible(busy)
        self.btn_cancel.setVisible(busy and self.vm.cancellable)
        if busy:
            self.progress.setRange(0, 0)  # busy until the job reports how far it is
        self.progress.setFormat(text + " %v/%m" if busy else "")
        self.sample_combo.setEnabled(not busy)
        self.open_folder.setEnabled(not busy)

    @Slot(int, int)
    def show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    @Slot(object)
    def list_samples(self, entries: list[SampleEntry]) -> None:
        self.sample_combo.blockSignals(True)
        self.sample_combo.clear()
        for e in entries:
            self.sample_combo.addItem(e.display, e)
        current = self.vm.loaded.label if self.vm.loaded is not None else None
        for i, e in enumerate(entries):
            if e.label == current:
                self.sample_combo.setCurrentIndex(i)
        self.sample_combo.blockSignals(False)

    @Slot(int)
    def _choose_sample(self, index: int) -> None:
        entry = self.sample_combo.itemData(index)
        if isinstance(entry, SampleEntry):
            self.vm.load_sample(entry)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "YOLO sample folder (images/, labels/)")
        if folder:
            self.vm.load_sample(SampleEntry.folder(Path(folder)))
