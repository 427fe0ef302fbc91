"""`station evaluate`: measured false accepts / false rejects of thresholds on a labeled sample.

Scores a YOLO-layout sample once (cached by model hash and sample content),
then reports the part-level confusion, FAR and FRR with Wilson 95%
intervals, per-class escapes and, when costs or an escape-rate cap are
given, recommended thresholds. `--json` prints one object whose schema is
documented in README ("Thresholds").
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from station.core.errors import StationError
from station.core.metrics import Confusion, confusion, expected_cost, ranking_problem
from station.core.rates import Rate
from station.core.recommend import (
    NoRecommendation,
    Recommendation,
    chosen_recommendation,
    recommend_escape_cap,
    recommend_min_cost,
)
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdSet, parse_threshold, reject_mask


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure false accepts / false rejects of thresholds on a labeled sample",
        description=(
            "Score a labeled YOLO-layout sample (images/, labels/, data.yaml) once, then report "
            "escapes (defective parts passed) and scrap (good parts rejected) at the given "
            "thresholds, with Wilson 95% intervals, and recommend thresholds when costs or an "
            "escape-rate cap are given."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--recipe", type=Path, help="a recipe TOML: its model, thresholds and costs")
    src.add_argument("--model", help="an ONNX model file (thresholds from the flags)")
    p.add_argument("--labels", type=Path, help="class names file for --model, one per line")
    p.add_argument("--family", help="force the model's output family (with --model)")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="YOLO sample folder")
    p.add_argument(
        "--thresholds",
        metavar="JSON",
        help="per-class thresholds: a JSON object such as '{\"crack\": 0.6}' or a JSON file path",
    )
    p.add_argument(
        "--default-threshold",
        metavar="T",
        help=f"threshold for unlisted classes, in [0, 1] (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--reject-classes",
        metavar="A,B",
        help="classes that reject a part (default: the recipe's, else every class)",
    )
    p.add_argument("--cost-escape", type=str, metavar="X", help="cost of one escape")
    p.add_argument("--cost-scrap", type=str, metavar="Y", help="cost of one scrapped good part")
    p.add_argument(
        "--max-escape-rate",
        metavar="R",
        help="escape-rate cap, a fraction (0.005) or a percentage (0.5%%)",
    )
    p.add_argument(
        "--prevalence",
        metavar="P",
        help="share of defective parts on the line for the cost (default: the sample's)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")
    p.add_argument(
        "--write-recipe",
        type=Path,
        metavar="OUT",
        help="write a recipe with the recommended thresholds bound to the model's hash",
    )
    p.add_argument("--cache-dir", type=Path, help="score cache folder (default: user cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.set_defaults(func=_main)


# -- flag parsing -----------------------------------------------------------------------------


def _number(text: str | None, flag: str, lo: float, hi: float | None) -> float | None:
    if text is None:
        return None
    raw = text.strip()
    pct = raw.endswith("%")
    try:
        value = float(raw[:-1] if pct else raw) / (100.0 if pct else 1.0)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
        rng = f">= {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}]"
        raise StationError(f"{flag}: expected a number {rng}, got {text!r}")
    return value


def _thresholds(
    args: argparse.Namespace, base: ThresholdSet, names: tuple[str, ...]
) -> ThresholdSet:
    from station.commands.detect import _load_json_object, check_threshold_set_keys

    per_class: dict[str, object] = dict(base.class_thresholds)
    default: object = base.default_threshold
    if args.thresholds is not None:
        obj, source = _load_json_object(args.thresholds)
        nested = obj.get("class_thresholds")
        if isinstance(nested, dict):
            check_threshold_set_keys(obj, source)
            per_class.update(nested)
            default = obj.get("default_threshold", default)
        else:
            per_class.update(obj)
    if args.default_threshold is not None:
        try:
            default = float(args.default_threshold)
        except ValueError:
            default = args.default_threshold
        parse_threshold(default, "--default-threshold")
    tset = ThresholdSet(per_class, default, base.model_sha256)  # type: ignore[arg-type]
    tset.check_classes(names)
    return tset


# -- the command ------------------------------------------------------------------------------


def _progress_bar(stream: Any) -> Any:
    """A bar redrawn in place on a terminal; elsewhere (logs, pipes) one line at the end."""
    start = time.monotonic()
    tty = bool(getattr(stream, "isatty", lambda: False)())

    def show(done: int, total: int) -> None:
        if not tty:
            if done >= total:
                stream.write(f"scored {total} parts in {time.monotonic() - start:.1f}s\n")
            return
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        stream.write(f"\rscoring [{bar}] {done}/{total} parts {time.monotonic() - start:.1f}s{end}")
        stream.flush()

    return show


def _main(args: argparse.Namespace) -> int:
    from station.detectors import load_detector
    from station.evaluation import score_folder
    from station.services.recipe import Costs, load_recipe

    recipe = load_recipe(args.recipe) if args.recipe is not None else None
    if recipe is not None:
        if args.labels is not None or args.family is not None:
            raise StationError("--labels/--family: set them in the recipe's [model] table")
        detector = load_detector(recipe.model.path, recipe.model.labels, recipe.model.family)
        mismatch = recipe.model_mismatch(detector.info.sha256)
        if mismatch:
            raise StationError(mismatch)
    else:
        detector = load_detector(args.model, args.labels, args.family)
    info = detector.info
    names = info.class_names

    if recipe is not None:
        from station.services.recipe import check_against_model

        check_against_model(recipe, names)  # names the recipe file and field
    base = recipe.thresholds if recipe is not None else ThresholdSet()
    tset = _thresholds(args, base, names)
    if args.reject_classes is not None:
        reject: tuple[str, ...] | None = tuple(
            c.strip() for c in args.reject_classes.split(",") if c.strip()
        )
    else:
        reject = recipe.reject_classes if recipe is not None else None
    try:
        rejecting = reject_mask(names, reject)
    except StationError as exc:
        raise StationError(f"--reject-classes: {exc}".replace("reject_classes: ", "")) from None

    costs = recipe.costs if recipe is not None else Costs()
    ce = _number(args.cost_escape, "--cost-escape", 0.0, None)
    cs = _number(args.cost_scrap, "--cost-scrap", 0.0, None)
    if recipe is None and (ce is None) != (cs is None):
        missing = "--cost-scrap" if cs is None else "--cost-escape"
        raise StationError(f"{missing}: expected with the other cost (or costs from a --recipe)")
    costs_given = recipe is not None or ce is not None
    cost_escape = ce if ce is not None else costs.escape
    cost_scrap = cs if cs is not None else costs.scrap
    cap = _number(args.max_escape_rate, "--max-escape-rate", 0.0, 1.0)
    if cap is None:
        cap = costs.max_escape_rate
    prevalence = _number(args.prevalence, "--prevalence", 0.0, 1.0)

    if args.data is None or not Path(args.data).is_dir():
        raise StationError(f"--data: {args.data} is not a folder")
    scored = score_folder(
        detector,
        args.data,
        progress=_progress_bar(sys.stderr),
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    if scored.from_cache:
        print(f"scores from cache ({scored.cache_path}): the model was not re-run", file=sys.stderr)
    sample = scored.sample
    vec = tset.vector(names)
    conf = confusion(sample, vec, rejecting)
    problem = ranking_problem(sample)

    recommended: dict[str, Recommendation | NoRecommendation] = {}
    if costs_given:
        recommended["min_cost"] = recommend_min_cost(
            sample, rejecting, cost_escape, cost_scrap, prevalence, current=vec
        )
    if cap is not None:
        recommended["escape_cap"] = recommend_escape_cap(
            sample,
            rejecting,
            cap,
            cost_escape if costs_given else None,
            cost_scrap if costs_given else None,
            prevalence,
            current=vec,
        )

    # thresholds from a recipe belong to a model; flags alone are not bound to any
    retune = recipe.thresholds_need_retuning(info.sha256) if recipe is not None else None
    if retune and recipe is not None:
        sha = recipe.thresholds.model_sha256
        tuned = f"{sha[:12]}…" if sha else "(none recorded)"
        print(
            f"warning: {recipe.path}: thresholds need re-tuning: tuned on model {tuned}, "
            f"this model is {info.sha256[:12]}…",
            file=sys.stderr,
        )
    written: Path | None = None
    if args.write_recipe is not None:
        written = _write_recipe(
            args, recipe, tset, reject, recommended, info, cap, Costs(cost_escape, cost_scrap, cap)
        )

    if args.json:
        out = _json(
            conf, tset, names, rejecting, info.sha256, recommended, retune, problem, scored, written
        )
        if costs_given:
            out["expected_cost"] = _cost_or_none(conf, cost_escape, cost_scrap, prevalence)
        print(json.dumps(out, indent=2))
    else:
        print(
            _table(
                conf,
                tset,
                names,
                rejecting,
                info,
                recommended,
                retune,
                problem,
                scored,
                args.data,
                written,
                (cost_escape, cost_scrap, prevalence) if costs_given else None,
            )
        )
    return 0


def _cost_or_none(
    conf: Confusion, cost_escape: float, cost_scrap: float, prevalence: float | None
) -> float | None:
    """Expected cost at the evaluated thresholds; None when the sample cannot give it."""
    try:
        return expected_cost(conf, cost_escape, cost_scrap, prevalence).total
    except StationError:
        return None


# -- recipe output ----------------------------------------------------------------------------


def _write_recipe(
    args: argparse.Namespace,
    recipe: Any,
    tset: ThresholdSet,
    reject: tuple[str, ...] | None,
    recommended: Mapping[str, Recommendation | NoRecommendation],
    info: Any,
    cap: float | None,
    costs: Any,
) -> Path:
    from station.core.shifts import ShiftSchedule
    from station.services.recipe import CameraConfig, ModelRef, Recipe, write_recipe

    chosen = _chosen(recommended, cap)
    if chosen is None:
        reasons = "; ".join(
            f"{k}: {r.reason}" for k, r in recommended.items() if isinstance(r, NoRecommendation)
        )
        raise StationError(
            "--write-recipe: no recommended thresholds to write"
            + (f" ({reasons})" if reasons else " (give --cost-escape/--cost-scrap or a cap)")
        )
    new = tset.with_thresholds(dict(chosen.thresholds)).bound_to(info.sha256)
    out = Path(args.write_recipe)
    if recipe is not None:
        base = replace(recipe, thresholds=new, reject_classes=reject, costs=costs)
    else:
        base = Recipe(
            path=out,
            product=Path(str(args.model)).stem,
            station_id="station-1",
            model=ModelRef(
                Path(str(args.model)).resolve(),
                info.sha256,
                args.labels.resolve() if args.labels else None,
                args.family,
            ),
            thresholds=new,
            reject_classes=reject,
            camera=CameraConfig("synthetic", {}),
            shifts=ShiftSchedule(),
            costs=costs,
        )
    write_recipe(base, out)
    return out


def _chosen(
    recommended: Mapping[str, Recommendation | NoRecommendation], cap: float | None
) -> Recommendation | None:
    return chosen_recommendation(recommended, cap)


# -- JSON -------------------------------------------------------------------------------------


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


def _json(
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


def _table(
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
