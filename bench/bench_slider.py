"""slider: one threshold slider step on the 100k-part x 8-class matrix, value change to pixels.

A drag is simulated the way a user makes one: the slider's value changes by
one step (0.01), back and forth over the range, on two classes in turn. Each
step is timed from `QSlider.setValue` (which runs the view-model: confusion,
cost, operating point, changed parts, and sets every widget) until Qt has
painted what changed, synchronously (`QApplication.processEvents()`):
`slider_step_*`. `slider_full_repaint_*` forces `TuningView.repaint()` of the
whole tab as well (every widget, changed or not) before processing events:
an upper bound. Offscreen Qt (software rasteriser), window 1400x900.

Other engineers' jobs share the 2 cores, so the GUI thread's CPU time per
step is printed too (less sensitive to contention than wall time), with the
load average at the end of the run. The view-model alone is timed as well.
"""

from __future__ import annotations

import os
import time

import numpy as np
from benchlib import Figure, median, p95

N_PARTS = 100_000
N_CLASSES = 8
STEPS = 240
TARGET_P95_MS = 16.0


def run() -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from station.core.thresholds import ThresholdSet
    from station.services.tuning_samples import benchmark_matrix
    from station.ui.tuning import TuningView, TuningViewModel

    app = QApplication.instance() or QApplication([])
    loaded = benchmark_matrix(N_PARTS, N_CLASSES, seed=0)
    names = loaded.sample.class_names
    vm = TuningViewModel(names, ThresholdSet({n: 0.5 for n in names}, 0.25, "bench"), "bench")
    t0 = time.perf_counter()
    vm.set_sample(loaded)
    load_ms = (time.perf_counter() - t0) * 1e3
    view = TuningView(vm)
    view.resize(1400, 900)
    view.show()
    app.processEvents()

    values = np.concatenate([np.arange(20, 81), np.arange(80, 19, -1)])  # 0.20 .. 0.80 and back
    steps: list[tuple[str, int]] = []
    while len(steps) < STEPS:
        for cls in ("class3", "class6"):
            steps += [(cls, int(v)) for v in values]
    steps = steps[:STEPS]

    cpu: list[float] = []

    def one(cls: str, v: int, full_repaint: bool) -> float:
        t = time.perf_counter_ns()
        c = time.thread_time_ns()
        view.sliders[cls].slider.setValue(v)
        if full_repaint:
            view.repaint()
        app.processEvents()
        cpu.append((time.thread_time_ns() - c) / 1e6)
        return (time.perf_counter_ns() - t) / 1e6

    for cls, v in steps[:10]:  # warm-up
        one(cls, v, False)
    cpu.clear()
    step = np.array([one(cls, v, False) for cls, v in steps])
    cpu_ms = np.array(cpu)
    full = np.array([one(cls, v, True) for cls, v in steps])

    def vm_only(cls: str, v: int) -> float:
        t = time.perf_counter_ns()
        vm.set_threshold(cls, v / 100)
        return (time.perf_counter_ns() - t) / 1e6

    vm_ms = np.array([vm_only(cls, v) for cls, v in steps])
    view.close()
    vm.shutdown()
    p = p95(step)
    pf = p95(full)
    return [
        Figure("slider_step_median", median(step), "ms", "none"),
        Figure("slider_step_p95", p, "ms", f"<= {TARGET_P95_MS:g}", p <= TARGET_P95_MS),
        Figure("slider_full_repaint_median", median(full), "ms", "none"),
        Figure("slider_full_repaint_p95", pf, "ms", f"<= {TARGET_P95_MS:g}", pf <= TARGET_P95_MS),
        Figure("slider_step_gui_thread_cpu_median", median(cpu_ms), "ms", "none"),
        Figure("slider_step_gui_thread_cpu_p95", p95(cpu_ms), "ms", "none"),
        Figure("slider_load_average_1min", os.getloadavg()[0], "", "none"),
        Figure("slider_viewmodel_median", median(vm_ms), "ms", "none"),
        Figure("slider_viewmodel_p95", p95(vm_ms), "ms", "none"),
        Figure("slider_sample_load", load_ms, "ms", "none"),
    ]
