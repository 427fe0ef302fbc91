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
import sys
import time
from pathlib import Path
from typing import Any

from station.commands.evaluate_output import cost_or_none, evaluation_json, evaluation_table
from station.commands.evaluate_recipe import check_recipe_out, write_recommended_recipe
from station.commands.evaluate_settings import settings_from
from station.commands.threshold_flags import (
    add_max_pixels_flag,
    max_pixels_from,
)
from station.core.errors import StationError
from station.core.metrics import confusion
from station.core.ranking import ranking_problem
from station.core.recommend import recommend_escape_cap, recommend_min_cost
from station.core.recommendation import NoRecommendation, Recommendation
from station.core.thresholds import DEFAULT_THRESHOLD


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
    add_max_pixels_flag(p)
    p.add_argument("--cache-dir", type=Path, help="score cache folder (default: user cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.set_defaults(func=_main)


# -- the command ------------------------------------------------------------------------------


def _warn_orphan_labels(orphans: tuple[Path, ...]) -> None:
    """Label files without an image: most likely a renamed or deleted image, so say which."""
    if orphans:
        shown = ", ".join(str(p) for p in orphans[:3]) + (", ..." if len(orphans) > 3 else "")
        print(
            f"warning: {len(orphans)} label files have no image and were not read: {shown}",
            file=sys.stderr,
        )


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
    from station.services.recipe_file import load_recipe

    recipe = load_recipe(args.recipe) if args.recipe is not None else None
    if args.write_recipe is not None:
        check_recipe_out(args.write_recipe)  # before the sample is scored, not after
    if args.data is None or not Path(args.data).is_dir():
        raise StationError(f"--data: {args.data} is not a folder")
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
        from station.services.recipe_file import check_against_model

        check_against_model(recipe, names)  # names the recipe file and field
    st = settings_from(args, recipe, names)
    tset, rejecting = st.thresholds, st.rejecting
    cost_escape, cost_scrap, costs_given, cap = (
        st.cost_escape,
        st.cost_scrap,
        st.costs_given,
        st.cap,
    )
    prevalence = st.prevalence

    scored = score_folder(
        detector,
        args.data,
        progress=_progress_bar(sys.stderr),
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        max_pixels=max_pixels_from(args, recipe),
        size_rules=st.size_rules,
    )
    _warn_orphan_labels(scored.yolo.orphan_labels)
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
        written = write_recommended_recipe(
            args, recipe, tset, st.reject, recommended, info, cap, st.costs
        )

    if args.json:
        out = evaluation_json(
            conf, tset, names, rejecting, info.sha256, recommended, retune, problem, scored, written
        )
        if costs_given:
            out["expected_cost"] = cost_or_none(conf, cost_escape, cost_scrap, prevalence)
        if not st.size_rules.empty:
            out["size_rules"] = st.size_rules.to_dict()
        print(json.dumps(out, indent=2))
    else:
        if not st.size_rules.empty:
            print(f"size rules  {st.size_rules.describe()} (a detection below counts for nothing)")
        print(
            evaluation_table(
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
