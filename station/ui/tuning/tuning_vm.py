"""The tuning view-model: a scored sample, the saved and the dragged threshold sets.

Every number shown comes from the core (`SweepCache.evaluate`, `expected_cost`,
the recommenders, `DriftMonitor`) through its parts: `SampleFigures` (the
numbers on one sample, under the size rules tried: `trial`, a SizedSample),
`samples` (SampleLoader), `search` (ThresholdSearch),
`applier` (ThresholdApplier) and `monitor` (LiveMonitor: the live estimate and
the drift alarm; the station connects its parts and confirmations there).
Widgets only render the frozen snapshots this object emits (the signals, by
cost: `TuningState`). One concern a module: the threshold sets and the figures
(`TuningState`), the sample and size rules (`SampleTuning`), whole-set changes
(`SetChanges`: recommendations, apply, undo); here the parts are built and wired,
and their jobs cancelled or joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Slot

from station.core.costs import Costs
from station.core.drift import DriftMonitor
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet, reject_mask
from station.services.threshold_change import ThresholdChanger
from station.services.tuning_samples import SampleCatalog
from station.ui.jobs import JobRunner
from station.ui.tuning.apply_vm import ThresholdApplier
from station.ui.tuning.figures import DEFAULT_KEY
from station.ui.tuning.live import LiveEstimate
from station.ui.tuning.live_monitor import LiveMonitor
from station.ui.tuning.recommending import ThresholdSearch
from station.ui.tuning.sample_loader import SampleLoader
from station.ui.tuning.sample_tuning import SampleTuning
from station.ui.tuning.set_changes import SetChanges
from station.ui.tuning.sized_sample import SizedSample
from station.ui.tuning.tuning_state import TuningState


class TuningViewModel(SampleTuning, SetChanges, TuningState):
    def __init__(
        self,
        class_names: Sequence[str],
        saved: ThresholdSet,
        model_sha256: str,
        reject_classes: Sequence[str] | None = None,
        costs: Costs | None = None,
        changer: ThresholdChanger | None = None,
        catalog: SampleCatalog | None = None,
        parent: QObject | None = None,
        size_rules: SizeRules | None = None,
    ):
        super().__init__(parent)
        self.class_names = tuple(class_names)
        saved.check_classes(self.class_names)
        self.model_sha256 = model_sha256
        self.rejecting = reject_mask(self.class_names, reject_classes)
        self.costs = costs or Costs()
        self.changer = changer
        self.samples = SampleLoader(catalog, self)
        self.samples.loaded.connect(self._on_loaded)
        for name in ("busy", "progress", "message", "samples_listed"):
            getattr(self.samples, name).connect(getattr(self, name))
        self.applier = ThresholdApplier(changer, self)
        self.applier.applied.connect(self._on_applied)
        self.applier.message.connect(self.message)
        self.applier.busy.connect(self.busy)
        self.search = ThresholdSearch(self)
        self.search.found.connect(self._on_recommended)
        for name in ("busy", "progress", "message"):
            getattr(self.search, name).connect(getattr(self, name))
        self.saved = saved
        self.dragged = saved
        self.trial = SizedSample(self.class_names, self.rejecting, size_rules or SizeRules())
        self.selected = self.class_names[0] if self.class_names else DEFAULT_KEY
        self.last_figures = None
        self.monitor = LiveMonitor(self)
        self.monitor.live_changed.connect(self.live_changed)
        self.monitor.drift_changed.connect(self.drift_changed)

    @classmethod
    def from_recipe(
        cls,
        recipe: Any,
        class_names: Sequence[str],
        model_sha256: str,
        changer: ThresholdChanger | None = None,
        catalog: SampleCatalog | None = None,
    ) -> TuningViewModel:
        return cls(
            class_names,
            recipe.thresholds,
            model_sha256,
            recipe.reject_classes,
            recipe.costs,
            changer,
            catalog,
            size_rules=recipe.size_rules,
        )

    # ---- jobs -------------------------------------------------------------------------------
    @property
    def rec_runner(self) -> JobRunner:
        """The threshold search's job runner."""
        return self.search.runner

    def shutdown(self) -> None:
        """Cancel a scoring or search job in flight (window closing, tests): each stops at its
        next progress report. An apply in flight is finished, never cut mid-transaction."""
        self.samples.runner.wait()
        self.rec_runner.wait()
        self.applier.wait()

    @property
    def cancellable(self) -> bool:
        """A sample is being scored or thresholds searched (an apply is never cut short)."""
        return self.samples.runner.running or self.rec_runner.running

    @Slot()
    def cancel_jobs(self) -> None:
        """Stop scoring or searching at the job's next progress report."""
        self.samples.runner.cancel()
        self.rec_runner.cancel()

    # ---- live on the line: `monitor` (LiveMonitor) ------------------------------------------
    @property
    def live(self) -> LiveEstimate:
        return self.monitor.live

    @property
    def drift(self) -> DriftMonitor | None:
        return self.monitor.drift

    def live_text(self) -> str:
        return self.monitor.live.text()
