"""The tuning view's numbers on one scored sample, without Qt.

Built once per sample; `figures` is what a slider move costs. Every count
comes from the core: the confusion and curves from `SweepCache`,
which parts ship from `outcomes` (through the cache's hit masks), the cost
from `costs`. There is no rejection rule here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from station.core import metrics, outcomes
from station.core.costs import Costs, expected_cost
from station.core.errors import StationError
from station.core.sample import ScoredSample
from station.core.sweep import Sweep, SweepCache
from station.services.tuning_samples import LoadedSample
from station.ui.tuning.figures import (
    ChangedParts,
    Curves,
    Figures,
    PartDetail,
    escape_text,
    escapes_by_class_text,
    read_yolo_boxes,
    scrap_text,
)

HIST_BINS = 50
F32Array = npt.NDArray[np.float32]


class SampleFigures:
    """Figures, curves, changed parts and part details of one loaded sample."""

    def __init__(self, loaded: LoadedSample, rejecting: npt.NDArray[np.bool_]) -> None:
        self.loaded = loaded
        self.sample = loaded.sample
        self.rejecting = rejecting
        self.cache = SweepCache(self.sample, rejecting)
        self._hist: dict[int, tuple[Any, ...]] = {}
        self._saved_not_shipped = np.zeros(self.sample.n_parts, dtype=bool)

    @property
    def ranking_problem(self) -> str | None:
        return self.cache.ranking_problem

    def set_saved(self, t_saved: F32Array, saved_sample: ScoredSample | None = None) -> None:
        """The saved set the changed parts are measured against; `saved_sample` is the sample
        under the saved size rules when the dragged ones differ (core.size_rules)."""
        cache = self.cache
        if saved_sample is not None:
            cache = SweepCache(saved_sample, self.rejecting)
        self._saved_not_shipped = cache.not_shipped(t_saved).copy()

    def confusion_and_sweep(
        self, t: F32Array, c: int, with_sweep: bool
    ) -> tuple[metrics.Confusion, Sweep | None]:
        if with_sweep and self.ranking_problem is None:
            return self.cache.evaluate(t, c)
        return self.cache.confusion(t), None

    def figures(self, t: F32Array, c: int, conf: metrics.Confusion, costs: Costs) -> Figures:
        cost = None
        if conf.parts:
            try:
                cost = expected_cost(conf, costs.escape, costs.scrap)
            except StationError:
                cost = None
        cost_text = (
            f"expected cost: {cost.per_1000_parts:,.1f} per 1,000 parts "
            f"(escape {costs.escape:g}, scrap {costs.scrap:g})"
            if cost is not None
            else "expected cost: n/a (empty sample)"
        )
        return Figures(
            confusion=conf,
            cost=cost,
            escape_text=escape_text(conf.far),
            scrap_text=scrap_text(conf.frr),
            cost_text=cost_text,
            per_class_text=escapes_by_class_text(conf),
            selected=self.sample.class_names[c],
            threshold=float(t[c]),
            far=conf.far.value,
            frr=conf.frr.value,
            changed=self.changed(t),
        )

    def changed(self, t: F32Array) -> ChangedParts:
        """Parts whose shipping fate differs between the saved set and `t`."""
        now = self.cache.not_shipped(t)
        before = self._saved_not_shipped
        defective = self.cache.defective
        newly_rej = np.flatnonzero(now & ~before)
        newly_pass = np.flatnonzero(~now & before)
        caught = int(defective[newly_rej].sum())
        escaping = int(defective[newly_pass].sum())
        return ChangedParts(
            newly_rej,
            newly_pass,
            caught,
            int(newly_rej.size - caught),
            escaping,
            int(newly_pass.size - escaping),
        )

    def curves(self, c: int, sweep: Sweep | None) -> Curves:
        name = self.sample.class_names[c]
        problem = self.ranking_problem
        if problem is not None:
            return Curves(name, problem)
        if not self.rejecting[c]:
            return Curves(name, f"{name} is not a reject class in this recipe: it never rejects")
        if c not in self._hist:
            self._hist[c] = self._histogram(c)
        edges, hd, hg, nd, ng, nu = self._hist[c]
        return Curves(name, None, edges, hd, hg, nd, ng, nu, sweep)

    def _histogram(self, c: int) -> tuple[Any, ...]:
        """Share of parts per score bin: parts with a true `c` defect vs good parts."""
        s = self.sample
        col = s.scores[:, c]
        detected = np.isfinite(col)
        has_c = s.truth[:, c]
        good = ~self.cache.defective
        edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
        hd, _ = np.histogram(col[detected & has_c], bins=edges)
        hg, _ = np.histogram(col[detected & good], bins=edges)
        nd, ng = int(has_c.sum()), int(good.sum())
        hd_share = hd / nd if nd else hd.astype(np.float64)
        hg_share = hg / ng if ng else hg.astype(np.float64)
        return edges, hd_share, hg_share, nd, ng, int((~detected).sum())

    def part_detail(self, i: int, t_saved: F32Array, t_drag: F32Array) -> PartDetail:
        s, loaded = self.sample, self.loaded
        img = loaded.image_paths[i] if i < len(loaded.image_paths) else None
        lab = loaded.label_paths[i] if i < len(loaded.label_paths) else None
        row = s.scores[i]
        return PartDetail(
            index=i,
            part_id=s.part_ids[i],
            image_path=img,
            truth_boxes=read_yolo_boxes(lab, s.class_names),
            truth_classes=tuple(n for n, v in zip(s.class_names, s.truth[i], strict=True) if v),
            defective=bool(self.cache.defective[i]),
            scores=tuple(
                (n, float(row[c]), float(t_saved[c]), float(t_drag[c]))
                for c, n in enumerate(s.class_names)
            ),
            saved_outcome=outcomes.outcome_of(row, t_saved, self.rejecting).value,
            dragged_outcome=outcomes.outcome_of(row, t_drag, self.rejecting).value,
        )
