"""Promoting a candidate model, or rolling back, from the tuning tab, off the GUI thread.

The one implementation is `station promote`'s service (station.services.promotion):
`check` plans the promotion from a `station compare --json` report and the candidate
file with the CLI's rules (both models' SHA-256, a verdict that is not `worse`, the
recipe's costs, size rules and reject classes) and emits `planned(ModelChange)` for the
supervisor to confirm; `promote` and `roll_back` run the guarded transaction (PIN, audit,
the rollback copy, the recipe). Hashing and loading the candidate, and the PIN's scrypt,
take time, so each step is a job on the job runner (`GuardedStep`). `switched(path)` names
the recipe written: the window reopens it as File → Open recipe… does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from station.core.jobs import Progress
from station.core.rates import Rate
from station.services.promotion import (
    ModelChange,
    plan_promotion,
    promote,
    rollback,
    rollback_path,
)
from station.services.recipe import Recipe
from station.services.threshold_change import AuditSink
from station.services.tuning_store import PinStore
from station.ui.tuning.guarded_step import GuardedStep

PROMOTED, ROLLED_BACK = "promoted", "rolled back"


class ModelPromoter(GuardedStep):
    STEP = "a model change"
    UNDER_WAY = "a model change is already under way"

    planned = Signal(object)  # ModelChange: checked, waiting for the supervisor
    switched = Signal(str)  # the recipe promoted or rolled back: reopen it

    def __init__(
        self, recipe_path: Path, pins: PinStore, audit: AuditSink, parent: QObject | None = None
    ) -> None:
        super().__init__("Promote", parent)
        self.recipe_path = Path(recipe_path)
        self.pins = pins
        self.audit = audit

    @property
    def can_roll_back(self) -> bool:
        """A promotion of this recipe left its previous version to go back to."""
        return rollback_path(self.recipe_path).is_file()

    def pin_is_set(self) -> bool:
        return self.pins.is_set()

    def check(self, report: Path, candidate: Path) -> bool:
        """Plan the promotion (nothing written); `planned` or a message follows."""

        def job(progress: Progress) -> tuple[str, ModelChange]:
            return "planned", plan_promotion(self.recipe_path, Path(candidate), Path(report))

        return self._start(job, "not promoted", "checking the compare report and the candidate")

    def promote(self, change: ModelChange, who: str, pin: str, reason: str) -> bool:
        """Switch the recipe to the planned candidate (PIN, audit); `switched` follows."""

        def job(progress: Progress) -> tuple[str, Recipe]:
            return PROMOTED, promote(change, who, reason, pin, self.pins, self.audit)

        return self._start(job, "not promoted", "checking the PIN", _answers(who, reason))

    def roll_back(self, who: str, pin: str, reason: str) -> bool:
        """Restore the recipe kept by the last promotion (PIN, audit); `switched` follows."""

        def job(progress: Progress) -> tuple[str, Recipe]:
            return ROLLED_BACK, rollback(self.recipe_path, who, reason, pin, self.pins, self.audit)

        return self._start(job, "not rolled back", "checking the PIN", _answers(who, reason))

    def _done(self, result: object) -> None:
        assert isinstance(result, tuple)
        what, done = result
        if isinstance(done, ModelChange):
            self.planned.emit(done)
            return
        assert isinstance(done, Recipe)
        self.message.emit(
            f"{what}: {self.recipe_path.name} now runs {done.model.path.name}; reopening the recipe"
        )
        self.switched.emit(str(self.recipe_path))


def _answers(who: str, reason: str) -> tuple[tuple[str, str], ...]:
    return (("who", who), ("reason", reason))


def candidate_named_in(report: Path) -> Path | None:
    """The candidate file a compare report names, when it still exists (to pre-fill)."""
    try:
        named = json.loads(Path(report).read_text(encoding="utf-8"))["candidate"]["model"]
        path = Path(str(named))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if path.is_file() else None


def default_reason(change: ModelChange) -> str:
    """The CLI's default reason: the verdict and why."""
    return f"station compare verdict {change.evidence.verdict}: {change.evidence.reason}"


def promotion_summary(change: ModelChange) -> str:
    """What the supervisor confirms: the models, the verdict, the re-derived thresholds and
    both models' escape and scrap rates on the compare sample, with their Wilson 95%
    intervals (as the report gives them)."""
    old, new, ev = change.recipe, change.promoted, change.evidence
    lines = [
        f"Promote {new.model.path.name} ({change.candidate_sha256[:12]}…) in "
        f"{old.path.name}, replacing {old.model.path.name} ({ev.current_sha256[:12]}…).",
        f"station compare verdict {ev.verdict.upper()}: {ev.reason}",
        "",
        "Thresholds re-derived for the candidate (now → promoted):",
    ]
    for name, t in new.thresholds.class_thresholds.items():
        lines.append(f"    {name}  {old.thresholds.threshold_for(name):.3g} → {t:.3g}")
    if new.thresholds.default_threshold != old.thresholds.default_threshold:
        lines.append(
            f"    default  {old.thresholds.default_threshold:.3g} → "
            f"{new.thresholds.default_threshold:.3g}"
        )
    for title, key, count, total in (
        ("Escapes (defective parts passed)", "far", "false_accepts", "defective_parts"),
        ("Scrap (good parts rejected)", "frr", "false_rejects", "good_parts"),
    ):
        lines += ["", f"{title}, on the compare sample:"]
        for role in ("current", "candidate"):
            rate = _rate(ev.figures[role], ev.counts.get(role, {}), key, count, total)
            lines.append(f"    {role:<10} {rate}")
    lines += [
        "",
        "Audited with both models' rates; the recipe as it is now is kept for a one-step "
        "rollback. The window reopens the recipe (the line stops, then runs the new model).",
    ]
    return "\n".join(lines)


def _rate(figures: dict[str, Any], counts: dict[str, int], key: str, k: str, n: str) -> str:
    """'3 of 145: 2.1% (0.7–5.9%)': the report's rate and interval, with its counts."""
    value, ci = figures.get(key), figures.get(f"{key}_ci95")
    if value is None or not ci:
        return "n/a (no such parts in the sample)"
    rate = str(Rate(counts.get(k, 0), counts.get(n, 0), float(value), (ci[0], ci[1])))
    return rate if k in counts and n in counts else rate.split(": ", 1)[1]


def rollback_summary(recipe_path: Path) -> str:
    """What a rollback restores: the recipe file kept by the last promotion."""
    kept = rollback_path(recipe_path)
    return (
        f"Roll back {recipe_path.name}: restore it as it was before the last promotion "
        f"(kept as {kept.name}), with its model and thresholds. One step: the kept copy is "
        "removed. The window reopens the recipe."
    )
