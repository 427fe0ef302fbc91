"""Test support for the tuning view: widgets kept alive until torn down in order.

pytest-qt tracks widgets weakly; a shown top-level view whose last Python
reference goes away is deleted by the garbage collector at an arbitrary
moment, possibly while Qt still has paint events queued for it. Tests hold
their views here; teardown closes them, stops their jobs and deletes them
through the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


class Keeper:
    def __init__(self) -> None:
        self.items: list[tuple[Any, Any]] = []

    def keep(self, vm: Any, view: Any) -> None:
        self.items.append((vm, view))


@pytest.fixture
def keeper(qapp: Any) -> Iterator[Keeper]:
    from PySide6.QtCore import QCoreApplication, QEvent

    k = Keeper()
    yield k
    for vm, view in k.items:
        view.close()
        vm.shutdown()
        view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    k.items.clear()
