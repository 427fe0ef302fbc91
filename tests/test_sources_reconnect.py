"""Backoff delays and the reopen loop, without sleeping: the wait is injected."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from station.core.errors import StationError
from station.core.ports import CameraInfo, CameraLost, Frame
from station.sources.reconnect import BackoffPolicy, reopen_with_backoff


class ComesBackAfter:
    """A source whose camera answers only from the `n`th open attempt on."""

    def __init__(self, n: int, error: Exception | None = None) -> None:
        self.n = n
        self.error = error
        self.opens = 0
        self.closes = 0

    def open(self) -> CameraInfo:
        self.opens += 1
        if self.error is not None:
            raise self.error
        if self.opens < self.n:
            raise CameraLost(f"attempt {self.opens}: not found")
        return CameraInfo(name="back", kind="test")

    def read(self, timeout_s: float = 2.0) -> Frame:
        return Frame(np.zeros((2, 2), np.uint8), sequence=0, timestamp_s=0.0)

    def close(self) -> None:
        self.closes += 1


def test_delays_double_from_half_a_second_up_to_five() -> None:
    delays = list(itertools.islice(BackoffPolicy().delays(), 8))
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


def test_custom_policy_caps_inclusively() -> None:
    delays = list(itertools.islice(BackoffPolicy(first_s=1, factor=3, max_s=9).delays(), 4))
    assert delays == [1, 3, 9, 9]


def test_reopens_after_failures_waiting_the_policy_delays() -> None:
    source = ComesBackAfter(4)
    waited: list[float] = []
    failures: list[tuple[int, str, float]] = []
    info = reopen_with_backoff(
        source,
        wait=lambda s: waited.append(s) or False,
        on_failure=lambda n, exc, next_s: failures.append((n, str(exc), next_s)),
    )
    assert info == CameraInfo(name="back", kind="test")
    assert source.closes == 1 and source.opens == 4
    assert waited == [0.5, 1.0, 2.0, 4.0]
    assert failures == [
        (1, "attempt 1: not found", 1.0),
        (2, "attempt 2: not found", 2.0),
        (3, "attempt 3: not found", 4.0),
    ]


def test_a_stop_request_ends_the_loop_without_opening() -> None:
    source = ComesBackAfter(100)
    calls = iter([False, False, True])
    assert reopen_with_backoff(source, wait=lambda _s: next(calls)) is None
    assert source.opens == 2


def test_a_configuration_error_is_not_retried() -> None:
    source = ComesBackAfter(1, error=StationError("[camera] gain_db = 99: takes 0 to 10"))
    with pytest.raises(StationError, match="gain_db"):
        reopen_with_backoff(source, wait=lambda _s: False)
    assert source.opens == 1
