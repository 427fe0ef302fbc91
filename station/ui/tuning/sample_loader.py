"""Which sample the tuning view works on: listing, scoring off the GUI thread, remembering.

Scoring a sample (running the model over its images) takes seconds to minutes,
so it is a job on the job runner with progress and cancellation; a sample
scored once in this session is switched to at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from station.core.errors import StationError
from station.services.tuning_samples import (
    LoadedSample,
    SampleCatalog,
    SampleEntry,
    loaded_from_any,
)
from station.ui.jobs import JobRunner


class SampleLoader(QObject):
    """Scores catalogue entries; `loaded(LoadedSample)` when one is ready to tune on."""

    loaded = Signal(object)  # LoadedSample
    busy = Signal(bool, str)
    progress = Signal(int, int)
    message = Signal(str)
    samples_listed = Signal(object)  # list[SampleEntry]

    def __init__(self, catalog: SampleCatalog | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.runner = JobRunner("Scoring", self)
        self.runner.progress.connect(self.progress)
        self.runner.finished.connect(self._on_scored)
        self.runner.failed.connect(self._on_failed)
        self._scored: dict[tuple[str, str], LoadedSample] = {}
        self._loading: SampleEntry | None = None
        self.current: LoadedSample | None = None

    def remember(self, loaded: LoadedSample) -> None:
        """`loaded` is the sample in use (scored here or handed in)."""
        self.current = loaded
        self._scored.setdefault((loaded.kind, loaded.label), loaded)

    def entries(self) -> list[SampleEntry]:
        if self.catalog is not None:
            return self.catalog.entries()
        if self.current is not None:
            s = self.current.sample
            return [SampleEntry(self.current.kind, self.current.label, None, s.n_parts)]
        return []

    def load_default(self) -> bool:
        """Score the first listed sample (the shipped one) unless one is loaded or loading.

        Called at start-up so the drift alarm has its reference without the tab being
        opened, and when the tab is first shown. True when a job was started.
        """
        if self.current is not None or self.runner.running:
            return False
        entries = self.entries()
        if not entries:
            return False
        self.load(entries[0])
        return self.runner.running

    @Slot(object)
    def load(self, entry: SampleEntry) -> None:
        """Switch to `entry`; scores it off the GUI thread unless already scored."""
        done = self._scored.get(entry.key)
        if done is not None:
            self.loaded.emit(done)
            return
        if self.catalog is None:
            self.message.emit("no model attached: cannot score a sample here")
            return
        try:
            self.runner.start(self.catalog.job(entry))
        except StationError as e:
            self.message.emit(f"sample not loaded: {e}")
            return
        self._loading = entry
        self.busy.emit(True, f"scoring {entry.display}")

    @Slot(object)
    def _on_scored(self, result: object) -> None:
        entry, self._loading = self._loading, None
        try:
            loaded = loaded_from_any(result)
            if entry is not None:
                self._scored[entry.key] = loaded
                if self.catalog is not None:
                    self.catalog.remember(entry, loaded.sample.n_parts)
            self.loaded.emit(loaded)
        except StationError as e:
            self.busy.emit(False, f"sample not loaded: {e}")
            return
        self.busy.emit(False, f"sample: {loaded.label}, {loaded.size_text}")
        self.samples_listed.emit(self.entries())

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._loading = None
        self.busy.emit(False, f"sample not loaded: {message}")
