"""`station detect MODEL IMAGE...`: detections kept by per-class thresholds, per image.

Runs the detector on each image and prints the detections kept by per-class
thresholds, with the station's semantics: keep `confidence >= T` (compared
in float32), unlisted classes use the default, thresholds outside [0, 1]
and classes the model lacks are refused. With `--recipe` the recipe's size
rules apply too, as in the live decision: a detection is kept when it clears
its threshold AND reaches its class's minimum size.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from station.commands.threshold_flags import add_max_pixels_flag, build_thresholds, max_pixels_from
from station.core.decision import DecisionPolicy
from station.core.detections import Detections
from station.core.errors import StationError
from station.core.ports import DetectorError
from station.core.size_rules import SizeRules, detection_sizes
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdSet, keep_mask
from station.formats.image_file import read_image_file


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "detect",
        help="run a model on images and print the detections kept by per-class thresholds",
        description=(
            "Run a detector on images and print the detections that clear their class's "
            "threshold (confidence >= T). Boxes are in image pixels."
        ),
    )
    p.add_argument("model", help="ONNX file, or a heuristic such as heuristic:dark-blobs")
    p.add_argument(
        "images", nargs="+", metavar="IMAGE", help="image files: PNG, JPEG, BMP, TIFF or WebP"
    )
    p.add_argument(
        "--labels", type=Path, help="class names, one per line (for models without metadata)"
    )
    p.add_argument(
        "--family",
        help="force an output family: yolov8, yolov8-multilabel, yolov5, end2end, segment, "
        "segment-end2end, rtdetr, classifier",
    )
    p.add_argument(
        "--thresholds",
        metavar="JSON",
        help="per-class thresholds: a JSON object such as '{\"crack\": 0.6}' or a JSON file path",
    )
    p.add_argument(
        "--default-threshold",
        metavar="T",
        help=f"threshold for classes not listed, in [0, 1] (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--recipe",
        type=Path,
        help="thresholds and size rules ([size_rules], [calibration]) from a recipe "
        "(not with --thresholds/--default-threshold)",
    )
    add_max_pixels_flag(p)
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per image")
    p.set_defaults(func=_main)


def detections_json(dets: Detections, class_names: tuple[str, ...]) -> list[dict[str, object]]:
    """One object per detection; a segmentation model's also carry `mask_area_px` (frame
    pixels) and `polygon` (the mask's outline, [[x, y], ...] frame pixels)."""
    rows: list[dict[str, object]] = [
        {
            "class_name": class_names[int(c)],
            "class_id": int(c),
            "confidence": float(s),
            "box_xyxy": [float(v) for v in box],
        }
        for box, s, c in zip(dets.xyxy, dets.confidence, dets.class_id, strict=True)
    ]
    if "mask_area_px" in dets.data and "polygon" in dets.data:
        for row, area, outline in zip(
            rows, dets.data["mask_area_px"], dets.data["polygon"], strict=True
        ):
            if area >= 0:  # -1: below the mask floor (station.detectors.onnx_detector)
                row["mask_area_px"] = int(area)
                row["polygon"] = np.asarray(outline).tolist()
    if "mask_length_px" in dets.data:  # the size rules' mask length (station.core.size_rules)
        for row, length in zip(rows, dets.data["mask_length_px"], strict=True):
            if length >= 0:
                row["mask_length_px"] = round(float(length), 2)
    return rows


def _rules(args: argparse.Namespace, names: tuple[str, ...]) -> tuple[ThresholdSet, SizeRules]:
    """Thresholds and size rules from `--recipe`, or the threshold flags (no size rules)."""
    if args.recipe is None:
        return build_thresholds(args.thresholds, args.default_threshold, names), SizeRules()
    if args.thresholds is not None or args.default_threshold is not None:
        raise StationError("--recipe: not with --thresholds/--default-threshold (edit the recipe)")
    from station.services.recipe_file import check_against_model, load_recipe

    recipe = load_recipe(args.recipe)
    check_against_model(recipe, names)
    return recipe.thresholds, recipe.size_rules


def _main(args: argparse.Namespace) -> int:
    from station.detectors import load_detector  # onnxruntime loads only when needed

    detector = load_detector(args.model, args.labels, args.family)
    names = detector.info.class_names
    tset, rules = _rules(args, names)
    policy = DecisionPolicy.build(tset, names, None, rules)
    paths = [Path(p) for p in args.images]
    limit = max_pixels_from(args)
    images = [read_image_file(p, limit) for p in paths]  # every image checked before any output
    results: list[dict[str, object]] = []
    lines: list[str] = []
    for path, image in zip(paths, images, strict=True):
        try:
            candidates = detector.detect(image)
        except DetectorError as exc:
            raise StationError(f"{path}: {exc}") from None
        cleared = candidates.select(keep_mask(candidates, policy.thresholds))
        big = policy.big_enough(cleared)
        kept = cleared.select(big)
        rows = detections_json(kept, names)
        small = int(np.count_nonzero(~big))
        sizes = f" ({small} cleared a threshold but are below a size rule)" if small else ""
        area_px, length_px = detection_sizes(kept)
        for d, a, n in zip(rows, area_px.tolist(), length_px.tolist(), strict=True):
            if not rules.empty:  # how the size rules measured it (station.core.size_rules)
                d["area_px"], d["length_px"] = round(a, 2), round(n, 2)
                d["size"] = rules.reason(str(d["class_name"]), a, n)
        results.append({"image": str(path), "detections": rows})
        lines.append(f"{path}: {len(kept)} kept of {len(candidates)} candidates{sizes}")
        for d in rows:
            box = ", ".join(f"{v:.1f}" for v in d["box_xyxy"])  # type: ignore[attr-defined]
            t = tset.threshold_for(str(d["class_name"]))
            area = f"  mask {d['mask_area_px']} px" if "mask_area_px" in d else ""
            size = f", {d['size']}" if d.get("size") else ""
            lines.append(
                f"  {d['class_name']:<16} {d['confidence']:.4f} (>= {t:g}{size})  [{box}]{area}"
            )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n".join(lines))
    return 0
