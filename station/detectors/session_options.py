"""onnxruntime session options, chosen from the machine and the way the station runs.

Threads: one intra-op thread per CPU this process may use (`os.sched_getaffinity`,
which honours taskset, cgroup cpusets and container limits; `os.cpu_count` where it
is missing), unless the recipe says `[model] intra_op_threads`. A fixed 2 pinned an
8-core line PC to two threads.

Spinning: with `allow_spinning` on, intra-op threads busy-wait between runs for the
next one, which saves the wake-up latency on every run but burns the cores they
spin on. Measured on the shipped model (docs/benchmarks.md): headless, inference is
the only steady work and spinning pays; with the window up, the GUI thread paints
on the same cores and a spinning worker steals its time, so spinning is off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

import onnxruntime as ort


class RunMode(StrEnum):
    """How the station runs: it decides the spinning policy."""

    WINDOW = "window"
    HEADLESS = "headless"


SPIN_BY_MODE: dict[RunMode, bool] = {RunMode.WINDOW: False, RunMode.HEADLESS: False}
"""allow_spinning per mode, from `bench/run.py spinning` (docs/benchmarks.md)."""

MAX_THREADS = 256


def usable_cpus() -> int:
    """CPUs this process may run on (affinity / cpuset aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What the station asks of onnxruntime. `threads_from` says where the count came from."""

    intra_op_threads: int
    allow_spinning: bool
    mode: RunMode
    threads_from: str

    @classmethod
    def choose(
        cls, mode: RunMode = RunMode.WINDOW, intra_op_threads: int | None = None
    ) -> SessionOptions:
        """The options for `mode`; `intra_op_threads` (a recipe key) overrides the machine."""
        if intra_op_threads is not None:
            return cls(
                intra_op_threads, SPIN_BY_MODE[mode], mode, "recipe [model] intra_op_threads"
            )
        n = usable_cpus()
        return cls(n, SPIN_BY_MODE[mode], mode, f"{n} usable CPU{'' if n == 1 else 's'}")

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
        }

    def as_pairs(self) -> tuple[tuple[str, str], ...]:
        """For `ModelInfo.session_options` (frozen, core-typed)."""
        return tuple((k, str(v)) for k, v in self.as_dict().items())
