"""Population-stability index per class between the tuning sample and the live line."""

from __future__ import annotations

import numpy as np
import pytest

from station.core.drift import (
    MIN_LIVE_PARTS,
    N_BINS,
    PSI_ALARM,
    DriftLevel,
    DriftMonitor,
    bin_index,
    histogram,
    psi,
)


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (-np.inf, 0),
        (-1.0, 0),
        (0.0, 1),
        (0.0999, 1),
        (0.1, 2),
        (0.55, 6),
        (0.9, 10),
        (1.0, 10),
        (np.nan, -1),
    ],
)
def test_bins(score: float, expected: int) -> None:
    assert bin_index(np.array([score]))[0] == expected


def test_histogram_counts_per_class_and_skips_parts_without_a_decision() -> None:
    # The middle part has a NaN: it got no decision, so none of its scores count.
    s = np.array([[-np.inf, 0.05], [0.95, np.nan], [1.0, 0.5]], dtype=np.float32)
    h = histogram(s)
    assert h.shape == (2, N_BINS)
    assert h[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert h[1].sum() == 2 and h[1, 1] == 1 and h[1, 6] == 1


def test_a_camera_outage_raises_no_alarm_and_adds_no_live_parts() -> None:
    rng = np.random.default_rng(3)
    ref = rng.uniform(0.0, 1.0, (2000, 2)).astype(np.float32)
    monitor = DriftMonitor(("crack", "pit"), ref)
    outage = np.full((5 * MIN_LIVE_PARTS, 2), np.nan, dtype=np.float32)
    monitor.add(outage)
    report = monitor.report()
    assert monitor.live_parts == 0 and not report.alarm
    assert report.message.startswith("drift: 0 live parts")
    # The same outage read as "nothing detected" (-inf, as old logs stored it) would alarm.
    wrong = DriftMonitor(("crack", "pit"), ref)
    wrong.add(np.full_like(outage, -np.inf))
    assert wrong.report().alarm


def test_psi_known_value() -> None:
    # Two bins used: ref 50/50, live 80/20 -> PSI = 0.3 ln(1.6) + (-0.3) ln(0.4) = 0.4159
    ref = np.zeros((1, N_BINS), dtype=np.int64)
    live = np.zeros((1, N_BINS), dtype=np.int64)
    ref[0, 1], ref[0, 2] = 50, 50
    live[0, 1], live[0, 2] = 80, 20
    expected = 0.3 * np.log(0.8 / 0.5) + (-0.3) * np.log(0.2 / 0.5)
    assert psi(ref, live)[0] == pytest.approx(expected, rel=1e-9)
    assert psi(ref, ref)[0] == pytest.approx(0.0)


def test_same_distribution_is_stable_and_shifted_one_alarms() -> None:
    rng = np.random.default_rng(0)
    names = ("scratch", "pit")
    ref = rng.beta(2, 5, size=(5000, 2)).astype(np.float32)
    mon = DriftMonitor(names, ref)
    assert mon.report().classes[0].level is DriftLevel.TOO_FEW
    same = rng.beta(2, 5, size=(2000, 2)).astype(np.float32)
    for row in same[:10]:
        mon.add(row)  # one part at a time, as the worker delivers them
    mon.add(same[10:])
    rep = mon.report()
    assert rep.live_parts == 2000
    assert all(c.level is DriftLevel.STABLE for c in rep.classes)
    assert not rep.alarm and "no drift" in rep.message

    mon.reset()
    shifted = same.copy()
    shifted[:, 1] = np.clip(shifted[:, 1] + 0.25, 0, 1)  # the "pit" scores moved up
    mon.add(shifted)
    rep = mon.report()
    assert rep.classes[0].level is DriftLevel.STABLE
    assert rep.classes[1].level is DriftLevel.ALARM and rep.classes[1].psi > PSI_ALARM
    assert rep.alarm and "pit" in rep.message and "may no longer mean" in rep.message


def test_too_few_live_parts_gives_no_verdict() -> None:
    mon = DriftMonitor(("a",), np.full((100, 1), 0.2, dtype=np.float32))
    mon.add(np.full((MIN_LIVE_PARTS - 1, 1), 0.9, dtype=np.float32))
    rep = mon.report()
    assert not rep.alarm and rep.classes[0].level is DriftLevel.TOO_FEW
    assert f"judged from {MIN_LIVE_PARTS}" in rep.message


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="reference_scores"):
        DriftMonitor(("a", "b"), np.zeros((3, 1)))
    mon = DriftMonitor(("a", "b"), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="expected 2 classes"):
        mon.add(np.zeros(3))
