"""Test support for the tuning view: widgets kept alive until torn down in order.

pytest-qt tracks widgets weakly; a shown top-level view whose last Python
reference goes away is deleted by the garbage collector at an arbitrary
moment, possibly while Qt still has paint events queued for it. Tests hold
their views here with `keep(vm, view)`; teardown closes them, stops their
jobs and deletes them through the event loop. A test module imports both
`keep` and the `keeper` fixture (autouse: every test of the module gets one).
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


_ACTIVE: list[Keeper] = []


def keep(vm: Any, view: Any) -> None:
    """Hold `vm` and `view` until the running test ends."""
    _ACTIVE[-1].keep(vm, view)


@pytest.fixture(autouse=True)
def keeper(qapp: Any) -> Iterator[Keeper]:
    from PySide6.QtCore import QCoreApplication, QEvent

    k = Keeper()
    _ACTIVE.append(k)
    yield k
    _ACTIVE.remove(k)
    for vm, view in k.items:
        view.close()
        vm.shutdown()
        view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    k.items.clear()
