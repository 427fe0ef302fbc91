"""Promoting a candidate model into a recipe, and the one-step rollback.

A model change changes what ships, so it goes through the same guarded
transaction as a threshold change (`ThresholdChanger`: supervisor PIN, a
wrong PIN audited, the audit entry written before the recipe, a failed write
audited): the new thresholds are the candidate's, re-derived by
`station compare`, whose JSON report is the evidence. The promotion is
refused unless that report compared exactly this recipe's model with exactly
this candidate file (SHA-256 of both) and its verdict was not `worse`.

Before the recipe is rewritten, its file is kept byte for byte beside it
(`<recipe>.rollback.toml`): the rollback restores it, audited the same way,
and removes it (one step).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.files import atomic_write_text
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet
from station.services.recipe import Recipe
from station.services.recipe_file import load_recipe
from station.services.recipe_write import check_unchanged, write_recipe
from station.services.threshold_change import AuditSink, ThresholdChange, ThresholdChanger
from station.services.tuning_store import PinStore

EVENT_PROMOTED = "model_promoted"
EVENT_ROLLED_BACK = "model_rolled_back"
ROLLBACK_SUFFIX = ".rollback.toml"


def rollback_path(recipe_path: Path) -> Path:
    """Where the recipe as it was before the last promotion is kept."""
    return recipe_path.with_name(recipe_path.stem + ROLLBACK_SUFFIX)


@dataclass(frozen=True, slots=True)
class CompareEvidence:
    """What a `station compare --json` report says about one candidate."""

    current_sha256: str
    candidate_sha256: str
    thresholds: dict[str, float]
    verdict: str
    reason: str
    figures: dict[str, Any]
    costs: dict[str, Any]
    reject_classes: tuple[str, ...]
    size_rules: dict[str, Any] = field(default_factory=lambda: SizeRules().to_dict())
    """The size rules both models were judged by (a report without them: none)."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per model ("current", "candidate"): the counts behind the rates (`COUNT_KEYS` the
    report has), shown beside them when a supervisor confirms."""


COUNT_KEYS = ("false_accepts", "defective_parts", "false_rejects", "good_parts")


def read_compare_report(path: Path) -> CompareEvidence:
    """The report's facts, or StationError naming the file and the missing field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StationError(f"--from-compare: {path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StationError(f"--from-compare: {path}: not a JSON report ({exc})") from None
    try:
        now, new = data["current"], data["candidate"]
        thresholds = {str(k): float(v) for k, v in new["thresholds"].items()}
        figures = {
            role: {k: side[k] for k in ("far", "frr", "far_ci95", "frr_ci95")}
            for role, side in (("current", now), ("candidate", new))
        }
        return CompareEvidence(
            str(now["model_sha256"]),
            str(new["model_sha256"]),
            thresholds,
            str(data["verdict"]),
            str(data["reason"]),
            figures,
            dict(data["costs"]),
            tuple(str(c) for c in new["reject_classes"]),
            dict(data.get("size_rules") or SizeRules().to_dict()),
            {
                role: {k: int(side[k]) for k in COUNT_KEYS if k in side}
                for role, side in (("current", now), ("candidate", new))
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StationError(
            f"--from-compare: {path}: not a `station compare --json` report (missing {exc})"
        ) from None


def _sha(path: Path) -> str:
    from station.detectors import sha256_file

    try:
        return sha256_file(path)
    except OSError as exc:
        raise StationError(f"{path}: cannot read the model ({exc.strerror or exc})") from None


@dataclass(frozen=True, slots=True)
class ModelChange:
    """A planned promotion: the recipe now, the recipe after, and the evidence."""

    recipe: Recipe
    promoted: Recipe
    evidence: CompareEvidence
    candidate_sha256: str


def plan_promotion(recipe_path: Path, candidate: Path, report: Path) -> ModelChange:
    """Check everything a promotion rests on; nothing is written. StationError says what."""
    recipe = load_recipe(recipe_path)
    evidence = read_compare_report(report)
    if not candidate.is_file():
        raise StationError(f"--candidate: {candidate}: model file not found")
    current_sha = _sha(recipe.model.path)
    candidate_sha = _sha(candidate)
    if evidence.current_sha256 != current_sha:
        raise StationError(
            f"--from-compare: {report}: compares model {evidence.current_sha256[:12]}…, but "
            f"{recipe_path} runs {recipe.model.path} ({current_sha[:12]}…)"
        )
    if evidence.candidate_sha256 != candidate_sha:
        raise StationError(
            f"--from-compare: {report}: judged candidate {evidence.candidate_sha256[:12]}…, "
            f"not {candidate} ({candidate_sha[:12]}…)"
        )
    if evidence.verdict not in ("better", "equivalent"):
        raise StationError(
            f"--from-compare: {report}: verdict {evidence.verdict!r} ({evidence.reason}); "
            "only a better or equivalent candidate is promoted"
        )
    costs = {
        "escape": recipe.costs.escape,
        "scrap": recipe.costs.scrap,
        "max_escape_rate": recipe.costs.max_escape_rate,
    }
    if evidence.costs != costs:
        raise StationError(
            f"--from-compare: {report}: thresholds derived at costs {evidence.costs}, but "
            f"{recipe_path} has {costs}: run `station compare --recipe {recipe_path}`"
        )
    if evidence.size_rules != recipe.size_rules.to_dict():
        raise StationError(
            f"--from-compare: {report}: compared with size rules {evidence.size_rules}, but "
            f"{recipe_path} has {recipe.size_rules.to_dict()}: run `station compare --recipe "
            f"{recipe_path}`"
        )
    from station.core.thresholds import reject_mask
    from station.detectors import load_detector

    names = load_detector(candidate, recipe.model.labels, recipe.model.family).info.class_names
    rejecting = reject_mask(names, recipe.reject_classes)
    ours = tuple(n for n, r in zip(names, rejecting.tolist(), strict=True) if r)
    if evidence.reject_classes != ours:
        raise StationError(
            f"--from-compare: {report}: compared with reject classes "
            f"{', '.join(evidence.reject_classes)}, but {recipe_path} rejects {', '.join(ours)}"
        )
    thresholds = recipe.thresholds.with_thresholds(evidence.thresholds).bound_to(candidate_sha)
    thresholds.check_classes(names)
    model = replace(recipe.model, path=candidate.resolve(), sha256=candidate_sha)  # same threads
    promoted = replace(recipe, model=model, thresholds=thresholds)
    return ModelChange(recipe, promoted, evidence, candidate_sha)


class _ModelSwitch:
    """The `save` step of the transaction (after the PIN and the threshold audit): audit the
    model change, keep or restore the recipe file, write the new one."""

    def __init__(
        self,
        recipe: Recipe,
        announce: Callable[[], object],
        promoted: Recipe | None = None,
        restore_text: str | None = None,
    ) -> None:
        self.recipe = recipe
        self.announce = announce
        self.promoted = promoted
        self.restore_text = restore_text

    def __call__(self, new: ThresholdSet) -> Recipe:
        path = self.recipe.path
        check_unchanged(self.recipe)
        self.announce()
        if self.promoted is not None:  # promotion: keep the file as it is, then rewrite it
            atomic_write_text(rollback_path(path), path.read_text(encoding="utf-8"))
            return write_recipe(replace(self.promoted, thresholds=new), path)
        assert self.restore_text is not None  # rollback: the kept file comes back as it was
        atomic_write_text(path, self.restore_text)
        rollback_path(path).unlink()
        return load_recipe(path)


def promote(
    change: ModelChange, who: str, reason: str, pin: str, pins: PinStore, audit: AuditSink
) -> Recipe:
    """Switch the recipe to the candidate (PIN, audit, rollback copy, recipe); the new recipe."""
    old, new, ev = change.recipe, change.promoted, change.evidence
    figures = {"verdict": ev.verdict, "verdict_reason": ev.reason, **ev.figures}

    def announce() -> object:
        return audit.record_event(
            EVENT_PROMOTED,
            f"{who} promoted {new.model.path.name} ({change.candidate_sha256[:12]}…) over "
            f"{old.model.path.name} in {old.path.name}: {reason}",
            who=who,
            reason=reason,
            recipe=str(old.path),
            from_model=str(old.model.path),
            from_sha256=ev.current_sha256,
            to_model=str(new.model.path),
            to_sha256=change.candidate_sha256,
            **figures,
        )

    changer = ThresholdChanger(pins, audit, _ModelSwitch(old, announce, promoted=new))
    applied = changer.apply(
        ThresholdChange(
            who,
            f"model change: {reason}",
            old.thresholds,
            new.thresholds,
            change.candidate_sha256,
            figures,
        ),
        pin,
    )
    assert isinstance(applied.recipe, Recipe)
    return applied.recipe


def rollback(
    recipe_path: Path, who: str, reason: str, pin: str, pins: PinStore, audit: AuditSink
) -> Recipe:
    """Restore the recipe kept by the last promotion (PIN, audit); the restored recipe."""
    kept = rollback_path(recipe_path)
    if not kept.is_file():
        raise StationError(
            f"--rollback: {recipe_path}: no promotion to roll back ({kept.name} not found)"
        )
    now = load_recipe(recipe_path)
    text = kept.read_text(encoding="utf-8")
    before = load_recipe(kept)
    before_sha = _sha(before.model.path)

    def announce() -> object:
        return audit.record_event(
            EVENT_ROLLED_BACK,
            f"{who} rolled {recipe_path.name} back from {now.model.path.name} to "
            f"{before.model.path.name}: {reason}",
            who=who,
            reason=reason,
            recipe=str(recipe_path),
            from_model=str(now.model.path),
            from_sha256=now.model.sha256,
            to_model=str(before.model.path),
            to_sha256=before_sha,
        )

    changer = ThresholdChanger(pins, audit, _ModelSwitch(now, announce, restore_text=text))
    applied = changer.apply(
        ThresholdChange(
            who,
            f"model rollback: {reason}",
            now.thresholds,
            before.thresholds,
            before.thresholds.model_sha256 or before_sha,
            undo=True,
        ),
        pin,
    )
    assert isinstance(applied.recipe, Recipe)
    return applied.recipe
