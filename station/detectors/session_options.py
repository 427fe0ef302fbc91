"""onnxruntime session options, chosen from the machine and the way the station runs.

Threads: one intra-op thread per CPU this process may use (`os.sched_getaffinity`,
which honours taskset, cgroup cpusets and container limits; `os.cpu_count` where it
is missing), unless the recipe says `[model] intra_op_threads`. A fixed 2 pinned an
8-core line PC to two threads.

Lanes: the live line infers `lanes` parts at once (station.pipeline.lanes), each on
its share of the CPUs: two lanes by default wherever there are two CPUs
(`[model] lanes` in the recipe). Scoring a sample (evaluate, compare, tuning) runs
one part at a time on every CPU: `choose()` with the default `lanes=1`.

Spinning: with `allow_spinning` on, intra-op threads busy-wait between runs for the
next one, which saves the wake-up latency on every run but burns the cores they
spin on. Measured on the shipped model (docs/benchmarks.md): headless, inference is
the only steady work and spinning pays; with the window up, the GUI thread paints
on the same cores and a spinning worker steals its time, so spinning is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import onnxruntime as ort

from station.core.priority import usable_cpus


class RunMode(StrEnum):
    """How the station runs: it decides the spinning policy."""

    WINDOW = "window"
    HEADLESS = "headless"


SPIN_BY_MODE: dict[RunMode, bool] = {RunMode.WINDOW: False, RunMode.HEADLESS: False}
"""allow_spinning per mode, from `bench/run.py spinning` (docs/benchmarks.md)."""

MAX_THREADS = 256
DEFAULT_LANES = 2
"""Parts inferred at once on the live line unless the recipe says `[model] lanes`."""


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What the station asks of onnxruntime. `threads_from` says where the count came from."""

    intra_op_threads: int
    allow_spinning: bool
    mode: RunMode
    threads_from: str
    lanes: int = 1

    @classmethod
    def choose(
        cls,
        mode: RunMode = RunMode.WINDOW,
        intra_op_threads: int | None = None,
        lanes: int | None = 1,
    ) -> SessionOptions:
        """The options for `mode`; `intra_op_threads` and `lanes` (recipe keys) override the
        machine; `lanes=None` is the live line's default (`DEFAULT_LANES`, at most one per
        CPU), and the CPUs are shared out between the lanes."""
        n = usable_cpus()
        chosen = min(DEFAULT_LANES, n) if lanes is None else lanes
        spin = SPIN_BY_MODE[mode]
        if intra_op_threads is not None:
            return cls(intra_op_threads, spin, mode, "recipe [model] intra_op_threads", chosen)
        per_lane = max(1, n // chosen)
        why = f"{n} usable CPU{'' if n == 1 else 's'}"
        if chosen > 1:
            why += f" shared by {chosen} lanes"
        return cls(per_lane, spin, mode, why, chosen)

    def to_ort(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if self.allow_spinning else "0"
        )
        options.log_severity_level = 3  # errors become StationErrors; no stderr noise
        return options

    def as_dict(self) -> dict[str, object]:
        return {
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": 1,
            "allow_spinning": self.allow_spinning,
            "mode": self.mode.value,
            "threads_from": self.threads_from,
            "lanes": self.lanes,
        }

    def as_pairs(self) -> tuple[tuple[str, str], ...]:
        """For `ModelInfo.session_options` (frozen, core-typed)."""
        return tuple((k, str(v)) for k, v in self.as_dict().items())
