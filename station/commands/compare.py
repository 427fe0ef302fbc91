"""`station compare`: a candidate model against the current one on the same labeled sample.

Both models are scored once (cached like `station evaluate`), each gets its
own thresholds by the recipe's rule, and the verdict says whether the
candidate is better, equivalent or worse, and why. `--json` prints
`{"current", "candidate", "changed_parts", "verdict", "reason", ...}` where
`current` and `candidate` carry the fields of `station evaluate --json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from station.core.comparison import ChangedPart, ClassScores
from station.core.errors import StationError

MAX_CHANGED_LISTED = 20


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compare",
        help="compare a candidate model with the current one on a labeled sample",
        description=(
            "Run both models over the same labeled YOLO-layout sample, give each its own "
            "thresholds by the recipe's rule (least expected cost, or the escape-rate cap), and "
            "show how the scores moved per class (quantiles, AUROC), part-level FAR and FRR "
            "with Wilson 95% intervals, the parts whose outcome changes, and a verdict: better, "
            "equivalent (both rates within each other's intervals) or worse."
        ),
    )
    add_compare_arguments(p)
    p.add_argument("--current", required=True, metavar="A.onnx", help="the model in use")
    p.add_argument("--candidate", required=True, metavar="B.onnx", help="the model to judge")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="YOLO sample folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_main)


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """Flags shared with `station optimize`."""
    p.add_argument(
        "--recipe",
        type=Path,
        metavar="R",
        help="recipe whose costs, escape cap and reject classes decide (default: costs 1/1)",
    )
    p.add_argument("--cache-dir", type=Path, help="score cache folder (default: user cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def run_comparison(args: argparse.Namespace, current: str, candidate: str, data: Path) -> Any:
    """Load the recipe, compare, with a progress line per model on stderr."""
    from station.commands.evaluate import _progress_bar
    from station.services.model_change import CompareSettings, compare_models
    from station.services.recipe_file import load_recipe

    recipe = load_recipe(args.recipe) if args.recipe is not None else None

    def progress_for(role: str) -> Any:
        bar = _progress_bar(sys.stderr)
        started = False

        def show(done: int, total: int) -> None:
            nonlocal started
            if not started:  # nothing at all when the scores come from the cache
                sys.stderr.write(f"{role}: ")
                started = True
            bar(done, total)

        return show

    return compare_models(
        current,
        candidate,
        data,
        CompareSettings.from_recipe(recipe),
        progress_for=progress_for,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )


def _main(args: argparse.Namespace) -> int:
    for flag in ("current", "candidate"):
        if not Path(getattr(args, flag)).is_file():
            raise StationError(f"--{flag}: {getattr(args, flag)}: model file not found")
    result = run_comparison(args, args.current, args.candidate, args.data)
    if args.json:
        print(json.dumps(comparison_json(result), indent=2))
    else:
        print(comparison_table(result, args.data))
    return 0


# -- JSON -------------------------------------------------------------------------------------


def _scores_json(s: ClassScores) -> dict[str, Any]:
    def q(values: tuple[float, ...] | None) -> dict[str, float] | None:
        if values is None:
            return None
        return {k: round(v, 6) for k, v in zip(("p10", "p50", "p90"), values, strict=True)}

    return {"auroc": s.auroc, "defective": q(s.defective_quantiles), "other": q(s.other_quantiles)}


def side_json(ev: Any, rejecting: Any, costs: Any) -> dict[str, Any]:
    """One model as `station evaluate --json` reports it, plus its rule and score summary."""
    from station.commands.evaluate_output import cost_or_none, evaluation_json

    names = ev.info.class_names
    out = evaluation_json(
        ev.confusion,
        ev.thresholds,
        names,
        rejecting,
        ev.info.sha256,
        ev.recommended,
        False,
        ev.problem,
        ev.scored,
        None,
    )
    out["model"] = ev.info.path
    out["rule"] = ev.rule
    out["expected_cost"] = cost_or_none(ev.confusion, costs.escape, costs.scrap, None)
    for s in ev.scores:
        out["per_class"][s.class_name]["scores"] = _scores_json(s)
    return out


def _part_json(p: ChangedPart) -> dict[str, Any]:
    return {
        "part": p.part_id,
        "defective": p.defective,
        "labels": list(p.labels),
        "current": p.current.value,
        "candidate": p.candidate.value,
        "effect": p.effect,
    }


def comparison_json(result: Any) -> dict[str, Any]:
    costs = result.settings.costs
    return {
        "current": side_json(result.current, result.rejecting, costs),
        "candidate": side_json(result.candidate, result.rejecting, costs),
        "changed_parts": [_part_json(p) for p in result.changed],
        "verdict": result.verdict.value,
        "reason": result.reason,
        "costs": {
            "escape": costs.escape,
            "scrap": costs.scrap,
            "max_escape_rate": costs.max_escape_rate,
        },
        "size_rules": result.settings.size_rules.to_dict(),  # both models judged by them
    }


# -- human table ------------------------------------------------------------------------------


def _q(values: tuple[float, ...] | None) -> str:
    return "-" if values is None else "/".join(f"{v:.2f}" for v in values)


def _auc(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def comparison_table(result: Any, data: Path) -> str:
    now, new = result.current, result.candidate
    conf = now.confusion
    lines = [
        f"current    {Path(now.info.path).name}  sha256 {now.info.sha256[:12]}…",
        f"candidate  {Path(new.info.path).name}  sha256 {new.info.sha256[:12]}…",
        f"sample     {data}  {conf.parts} parts: {conf.defective_parts} defective, "
        f"{conf.good_parts} good",
        "",
        "scores per class (p10/p50/p90 of each part's highest score; AUROC: how well the "
        "class's score separates parts with that defect)",
        f"{'class':14}{'current defective':>19}{'other':>16}{'AUROC':>7}"
        f"{'candidate defective':>22}{'other':>16}{'AUROC':>7}",
    ]
    for a, b in zip(now.scores, new.scores, strict=True):
        lines.append(
            f"{a.class_name:14}{_q(a.defective_quantiles):>19}{_q(a.other_quantiles):>16}"
            f"{_auc(a.auroc):>7}{_q(b.defective_quantiles):>22}{_q(b.other_quantiles):>16}"
            f"{_auc(b.auroc):>7}"
        )
    rule = {"min_cost": "least expected cost", "escape_cap": "escape-rate cap"}
    lines += ["", "each model at its own thresholds (the recipe's rule)"]
    for ev in (now, new):
        th = ", ".join(f"{k} {v:g}" for k, v in ev.thresholds.class_thresholds.items())
        lines += [
            f"  {ev.role:10} ({rule.get(ev.rule, ev.rule)}): {th}",
            f"  {'':10} FAR (escapes) {ev.confusion.far}",
            f"  {'':10} FRR (scrap)   {ev.confusion.frr}",
        ]
    changed = result.changed
    lines += ["", f"parts whose outcome changes: {len(changed)}"]
    for p in changed[:MAX_CHANGED_LISTED]:
        what = ", ".join(p.labels) if p.labels else "good"
        lines.append(
            f"  {p.part_id:24} {what:22} {p.current.value} -> {p.candidate.value}  ({p.effect})"
        )
    if len(changed) > MAX_CHANGED_LISTED:
        lines.append(f"  … and {len(changed) - MAX_CHANGED_LISTED} more (--json lists them all)")
    lines += ["", f"verdict: {result.verdict.value.upper()}: {result.reason}"]
    return "\n".join(lines)
