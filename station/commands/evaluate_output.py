"""What `station evaluate` prints: the JSON object (schema in docs/thresholds-and-tuning.md)
and the human table. Rendering only: every number comes from the core."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from station.core.costs import expected_cost
from station.core.errors import StationError
from station.core.metrics import Confusion
from station.core.rates import Rate
from station.core.recommendation import NoRecommendation, Recommendation
from station.core.thresholds import ThresholdSet


def cost_or_none(
    conf: Confusion, cost_escape: float, cost_scrap: float, prevalence: float | None
) -> float | None:
    """Expected cost at the evaluated thresholds; None when the sample cannot give it."""
    try:
        return expected_cost(conf, cost_escape, cost_scrap, prevalence).total
    except StationError:
        return None


def _ci(rate: Rate) -> list[float] | None:
    return None if rate.ci95 is None else [rate.ci95[0], rate.ci95[1]]


def _rec_json(r: Recommendation | NoRecommendation) -> dict[str, Any]:
    if isinstance(r, NoRecommendation):
        return {"reason": r.reason}
    return {
        "thresholds": dict(r.thresholds),
        "escapes": r.escapes,
        "scrap": r.scrap,
        "expected_cost": r.expected_cost,
        "expected_cost_per_1000_parts": r.cost.per_1000_parts if r.cost else None,
        "far": r.confusion.far.value,
        "frr": r.confusion.frr.value,
        "far_ci95": _ci(r.confusion.far),
        "frr_ci95": _ci(r.confusion.frr),
        "exact": r.exact,
        "explanation": r.explanation,
        "notes": list(r.notes),
    }


def evaluation_json(
    conf: Confusion,
    tset: ThresholdSet,
    names: tuple[str, ...],
    rejecting: np.ndarray,
    sha: str,
    recommended: Mapping[str, Recommendation | NoRecommendation],
    retune: bool | None,
    problem: str | None,
    scored: Any,
    written: Path | None,
) -> dict[str, Any]:
    labeled = scored.sample.truth.sum(axis=0)
    per_class: dict[str, Any] = {}
    for c, name in enumerate(names):
        if rejecting[c]:
            d, e = conf.escapes_per_class[name]
            per_class[name] = {"defective_parts": d, "escapes": e}
        else:
            per_class[name] = {"defective_parts": int(labeled[c]), "escapes": None}
        per_class[name]["threshold"] = tset.threshold_for(name)
        per_class[name]["reject"] = bool(rejecting[c])
    out: dict[str, Any] = {
        "parts": conf.parts,
        "defective_parts": conf.defective_parts,
        "good_parts": conf.good_parts,
        "false_accepts": conf.false_accepts,
        "false_rejects": conf.false_rejects,
        "true_rejects": conf.true_rejects,
        "true_passes": conf.true_passes,
        "far": conf.far.value,
        "frr": conf.frr.value,
        "far_ci95": _ci(conf.far),
        "frr_ci95": _ci(conf.frr),
        "thresholds": tset.resolved(names),
        "default_threshold": tset.default_threshold,
        "model_sha256": sha,
        "per_class": per_class,
        "no_decision": conf.no_decision,
        "unreadable_images": list(scored.unreadable),
        "reject_classes": [n for n, r in zip(names, rejecting.tolist(), strict=True) if r],
        "thresholds_need_retuning": retune,
        "ranking_problem": problem,
        "sample_sha256": scored.yolo.content_sha256,
        "scores_from_cache": scored.from_cache,
    }
    if recommended:
        out["recommended"] = {k: _rec_json(r) for k, r in recommended.items()}
    if written is not None:
        out["written_recipe"] = str(written)
    return out


# -- human table ------------------------------------------------------------------------------


def evaluation_table(
    conf: Confusion,
    tset: ThresholdSet,
    names: tuple[str, ...],
    rejecting: np.ndarray,
    info: Any,
    recommended: Mapping[str, Recommendation | NoRecommendation],
    retune: bool | None,
    problem: str | None,
    scored: Any,
    data: Path,
    written: Path | None,
    costs: tuple[float, float, float | None] | None,
) -> str:
    lines = [
        f"model   {Path(info.path).name}  sha256 {info.sha256[:12]}…"
        + ("  THRESHOLDS NEED RE-TUNING (tuned on another model)" if retune else ""),
        f"sample  {data}  {conf.parts} parts: {conf.defective_parts} defective, "
        f"{conf.good_parts} good"
        + (f", {conf.no_decision} without a decision" if conf.no_decision else "")
        + (f" ({len(scored.unreadable)} unreadable)" if scored.unreadable else "")
        + ("  (scores from cache)" if scored.from_cache else ""),
        "",
        f"{'':18}{'defective':>10}{'good':>10}",
        f"{'shipped (pass)':18}{conf.false_accepts:>7} FA{conf.true_passes:>7} TP",
        f"{'not shipped':18}{conf.true_rejects:>7} TR{conf.false_rejects:>7} FR",
        "",
        f"FAR (escapes)  {conf.far}",
        f"FRR (scrap)    {conf.frr}",
    ]
    if costs is not None and conf.parts:
        try:
            ec = expected_cost(conf, costs[0], costs[1], costs[2])
            lines.append(
                f"expected cost  {ec.total:.6g} for {ec.parts} parts ({ec.per_1000_parts:.4g} "
                f"per 1000) at {costs[0]:g}/escape, {costs[1]:g}/scrap"
            )
        except StationError as exc:
            lines.append(f"expected cost  n/a ({exc})")
    lines += ["", f"{'class':16}{'T':>8}{'defective':>11}{'escaped':>9}"]
    labeled = scored.sample.truth.sum(axis=0)
    for c, name in enumerate(names):
        t = tset.threshold_for(name)
        listed = "" if name in tset.class_thresholds else " (default)"
        if rejecting[c]:
            d, e = conf.escapes_per_class[name]
            lines.append(f"{name:16}{t:>8.4g}{d:>11}{e:>9}{listed}")
        else:
            lines.append(f"{name:16}{t:>8.4g}{int(labeled[c]):>11}{'-':>9}  does not reject")
    if problem:
        lines += ["", f"no curve, no recommendation: {problem}"]
    for kind, r in recommended.items():
        title = "least expected cost" if kind == "min_cost" else "escape-rate cap"
        lines.append("")
        if isinstance(r, NoRecommendation):
            lines.append(f"recommended ({title}): none. {r.reason}")
            continue
        lines.append(f"recommended ({title}):")
        lines.append("  " + ", ".join(f"{k} {v:g}" for k, v in r.thresholds.items()))
        lines.append(f"  {r.explanation}")
        lines += [f"  note: {n}" for n in r.notes]
    if written is not None:
        lines += ["", f"wrote {written}"]
    return "\n".join(lines)
