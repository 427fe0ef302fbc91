"""The tuning view-model's sample and size rules: which parts the figures are counted on.

A mixin of `TuningViewModel`. `samples` (SampleLoader) lists and scores the
catalogue's samples off the GUI thread; the one in use goes to `trial` (a
SizedSample), which re-judges it under the size rules tried
(station.core.size_rules) when the sample kept every detection's size. A new
sample is also the drift alarm's reference (`monitor`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot

from station.core.errors import StationError
from station.core.size_rules import SizeRules
from station.services.tuning_samples import LoadedSample, SampleEntry
from station.ui.jobs import JobRunner

if TYPE_CHECKING:
    from station.ui.tuning.tuning_state import TuningState as _Base
else:
    _Base = object


class SampleTuning(_Base):
    # ---- sample -----------------------------------------------------------------------------
    @property
    def runner(self) -> JobRunner:
        """The sample-scoring job runner."""
        return self.samples.runner

    def sample_entries(self) -> list[SampleEntry]:
        return self.samples.entries()

    def load_default_sample(self) -> bool:
        """Score the shipped sample at start-up (drift reference) unless one is loaded."""
        return self.samples.load_default()

    @Slot(object)
    def load_sample(self, entry: SampleEntry) -> None:
        self.samples.load(entry)

    @Slot(object)
    def _on_loaded(self, loaded: LoadedSample) -> None:
        try:
            self.set_sample(loaded)
        except StationError as e:
            self.message.emit(f"sample not loaded: {e}")

    def set_sample(self, loaded: LoadedSample) -> None:
        s = loaded.sample
        if tuple(s.class_names) != self.class_names:
            raise StationError(
                f"sample {loaded.label}: classes {list(s.class_names)} differ from the "
                f"model's {list(self.class_names)}"
            )
        self.samples.remember(loaded)
        self.trial.use(loaded, self.vector(self.saved))
        assert self.loaded is not None
        # Parts without a decision have no scores: the drift reference skips them.
        self.monitor.set_reference(self.class_names, self.loaded.sample.scores)
        self.sample_changed.emit()
        self.sizes_changed.emit()
        self.banner_changed.emit(self.banner)
        self.refresh()

    # ---- size rules (station.core.size_rules): `trial` ----------------------------------------
    @property
    def sizes(self) -> SizeRules:
        return self.trial.sizes

    @property
    def saved_sizes(self) -> SizeRules:
        return self.trial.saved_sizes

    @property
    def size_problem(self) -> str | None:
        """Why other size rules cannot be tried on the loaded sample, or None."""
        return self.trial.problem

    @Slot(str, str, float)
    def set_size_rule(self, class_name: str, measure: str, value: float) -> None:
        """A size control moved: `measure` "min_area" or "min_length", in the recipe's unit.

        The loaded sample's per-class maxima are recomputed from its cached detections."""
        if self.size_problem is not None:
            self.message.emit(f"size rules not changed: {self.size_problem}")
            self.sizes_changed.emit()
            return
        try:
            self.trial.try_rule(class_name, measure, value)
        except StationError as e:
            self.message.emit(f"size rule not changed: {e}")
        self._use_sizes()
        self.sizes_changed.emit()

    def _use_sizes(self) -> None:
        self.trial.rebuild(self.vector(self.saved))
        self.refresh()

    @property
    def ranking_problem(self) -> str | None:
        return None if self._figures is None else self._figures.ranking_problem

    @Slot()
    def revert(self) -> None:
        """Sliders and size controls back at the recipe's; the figures are counted once, at
        the end (not at the old sliders under the recipe's size rules first)."""
        if self.trial.revert():
            self.trial.rebuild(self.vector(self.saved))
            self.sizes_changed.emit()
        self.set_dragged(self.saved)
        self.message.emit("sliders back at the saved thresholds and size rules")
