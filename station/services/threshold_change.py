"""Applying a new threshold set: PIN, then audit, then recipe, then the running line.

Thresholds change what ships, so one transaction, in this order:

1. verify the supervisor PIN (set on first use; a wrong PIN is itself audited);
2. record the audit entry (who, when, old -> new, reason, model hash, the
   escape/scrap figures shown at that moment): if the audit cannot be
   written, nothing changes;
3. write the recipe back atomically (`save_recipe_thresholds`); a failure is
   audited as such and nothing else changes;
4. hand the new set to the running inspection worker, which applies it
   between two parts (never mid-part).

Undo is the same transaction with the previous set, also audited.
No Qt here: the tuning view-model calls it; tests call it directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from station.core.errors import StationError
from station.core.inspection import threshold_set_id
from station.core.supervisor import check_new_pin
from station.core.thresholds import ThresholdSet
from station.services.tuning_store import Lockout, PinStore

EVENT_REFUSED = "threshold_change_refused"
MAX_WRONG_PINS = 5
LOCKOUT_S = 60.0
"""After MAX_WRONG_PINS wrong PINs in a row, applying is refused for LOCKOUT_S seconds:
a 4-digit PIN must not be guessable by trying them all at the station."""
EVENT_FAILED = "threshold_change_failed"


class WrongPinError(StationError):
    """The PIN did not verify; nothing was changed."""


class AuditSink(Protocol):
    """What the transaction needs from the log (`SqliteInspectionLog`)."""

    def record_event(self, kind: str, message: str, **details: Any) -> Any: ...

    def record_threshold_change(
        self,
        *,
        who: str,
        old: ThresholdSet,
        new: ThresholdSet,
        reason: str,
        model_sha256: str,
        figures: Mapping[str, Any] | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """One requested change. `figures` are the numbers the supervisor saw when applying."""

    who: str
    reason: str
    old: ThresholdSet
    new: ThresholdSet
    model_sha256: str
    figures: Mapping[str, object] = field(default_factory=dict)
    undo: bool = False

    def describe(self) -> str:
        """'scratch 0.40 → 0.35, pit 0.30 → 0.28' (only what changed)."""
        moves = self.old.moves_to(self.new)
        return ", ".join(moves) or "no threshold changed (re-bound to the model)"


@dataclass(frozen=True, slots=True)
class AppliedChange:
    change: ThresholdChange
    applied: ThresholdSet
    recipe: object


class ThresholdChanger:
    """Runs the apply transaction. `save` writes the recipe (returns the new recipe);
    `deliver` hands the set to the running worker (None when the line is stopped)."""

    def __init__(
        self,
        pins: PinStore,
        audit: AuditSink,
        save: Callable[[ThresholdSet], object],
        deliver: Callable[[ThresholdSet], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.pins = pins
        self.audit = audit
        self.save = save
        self.deliver = deliver
        self.history: list[AppliedChange] = []
        self._clock = clock  # wall clock: the lockout is persisted (PinStore) across restarts

    def pin_is_set(self) -> bool:
        return self.pins.is_set()

    def apply(self, change: ThresholdChange, pin: str) -> AppliedChange:
        if not change.reason.strip():
            raise StationError("reason: a threshold change needs a reason for the audit trail")
        if not change.who.strip():
            raise StationError("who: a threshold change needs the name of who applies it")
        if not self.pins.is_set():
            check_new_pin(pin)
            self.pins.set_first(pin)
            self.audit.record_event(
                "supervisor_pin_set", f"supervisor PIN set on first use by {change.who}"
            )
        else:
            state = self.pins.lockout()
            wait_s = state.locked_until_utc - self._clock()
            if wait_s > LOCKOUT_S:  # the wall clock was set back: a lockout lasts LOCKOUT_S
                self.pins.save_lockout(Lockout(0, self._clock() + LOCKOUT_S))
                wait_s = LOCKOUT_S
            if wait_s > 0:
                raise WrongPinError(
                    f"too many wrong PINs: try again in {wait_s:.0f} s; thresholds not changed"
                )
            if not self.pins.verify(pin):
                failures = state.failures + 1
                if failures >= MAX_WRONG_PINS:
                    self.pins.save_lockout(Lockout(0, self._clock() + LOCKOUT_S))
                else:
                    self.pins.save_lockout(Lockout(failures, state.locked_until_utc))
                self.audit.record_event(
                    EVENT_REFUSED,
                    f"wrong PIN: threshold change by {change.who} refused ({change.describe()})",
                    who=change.who,
                    model_sha256=change.model_sha256,
                )
                raise WrongPinError("wrong PIN: thresholds not changed")
            self.pins.save_lockout(Lockout())
        new = change.new.bound_to(change.model_sha256)
        change = ThresholdChange(
            change.who,
            change.reason,
            change.old,
            new,
            change.model_sha256,
            change.figures,
            change.undo,
        )
        self.audit.record_threshold_change(
            who=change.who,
            old=change.old,
            new=new,
            reason=("undo: " if change.undo else "") + change.reason,
            model_sha256=change.model_sha256,
            figures=json.loads(json.dumps(dict(change.figures), default=str)),
        )
        try:
            recipe = self.save(new)
        except Exception as e:
            self.audit.record_event(
                EVENT_FAILED,
                f"recipe not written, thresholds unchanged: {e}",
                who=change.who,
                new_id=threshold_set_id(new),
            )
            raise
        if self.deliver is not None:
            self.deliver(new)
        applied = AppliedChange(change, new, recipe)
        self.history.append(applied)
        return applied

    def undo_change(self, who: str, reason: str, pin: str, current: ThresholdSet) -> AppliedChange:
        """Apply the set in force before the last change (audited like any change)."""
        if not self.history:
            raise StationError("undo: no threshold change to undo in this session")
        last = self.history[-1]
        applied = self.apply(
            ThresholdChange(
                who, reason, current, last.change.old, last.change.model_sha256, {}, undo=True
            ),
            pin,
        )
        # The undo consumed the change it undid (and is not itself undoable twice over).
        self.history.pop()
        self.history.pop()
        return applied
