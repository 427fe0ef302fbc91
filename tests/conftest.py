"""Shared test setup: Qt runs offscreen, and no test may leave a thread running."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fixtures for the central-database tests (a scratch PostgreSQL per session), compare
# reports for the promotion tests (CLI and tuning tab, made once per session), and the
# Shift tab tests (`logged`: a real log with parts in this shift and the one before).
pytest_plugins = ("central_support", "promotion_support", "shift_support")


@pytest.fixture(autouse=True)
def _no_thread_left_running() -> Iterator[None]:
    """Fail a test that leaves a Python thread or a QThread running (as napari does)."""
    before = set(threading.enumerate())
    yield
    leftover: list[str] = []
    for t in threading.enumerate():
        # A QThread that ran Python code shows up as a _DummyThread that never dies and
        # cannot be joined; QThreads are checked below.
        if t in before or not t.is_alive() or isinstance(t, threading._DummyThread):
            continue
        t.join(timeout=5.0)
        if t.is_alive():
            leftover.append(t.name)
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        qthread = qtcore.QThread

        for obj in gc.get_objects():
            if isinstance(obj, qthread):
                try:
                    running = obj.isRunning()
                except RuntimeError:  # C++ object already deleted
                    continue
                if running and obj.wait(5000) is False:
                    leftover.append(f"QThread {obj.objectName() or type(obj).__name__}")
    assert not leftover, f"test left threads running: {leftover}"
