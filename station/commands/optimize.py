"""`station optimize`: an int8 copy of a model, qualified on the sample, with its own recipe.

Exit 0: the int8 model's FAR and FRR stay inside the original's Wilson 95%
intervals and a recipe bound to its hash was written beside it. Exit 1: a
rate fell outside; it says which and writes no recipe (the int8 file is kept
for inspection). Exit 2: bad input, refused before any work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from station.commands.compare import add_compare_arguments, comparison_json, comparison_table
from station.core.errors import StationError
from station.services.optimize import CALIBRATION_PARTS

EXIT_OUTSIDE = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "optimize",
        help="quantise a model to int8, re-derive its thresholds, write its recipe",
        description=(
            "Quantise MODEL statically to int8 (onnxruntime QDQ, quant_pre_process first, "
            "calibrated on the station's own sample; the detection head's decode tail stays "
            "float), compare it with the original on the sample as `station compare` does, and "
            "write a recipe for the new file's hash with thresholds re-derived (OUT with the "
            "suffix .toml). When FAR or FRR fall outside (above) the original's 95% intervals it "
            "says so and exits 1, writing no recipe."
        ),
    )
    p.add_argument("model", type=Path, metavar="MODEL", help="the float ONNX model")
    p.add_argument("--sample", type=Path, required=True, metavar="DIR", help="YOLO sample folder")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.onnx", help="the int8 model")
    add_compare_arguments(p)
    p.add_argument(
        "--calibration-parts",
        type=int,
        default=CALIBRATION_PARTS,
        metavar="N",
        help=f"images spread over the sample to calibrate on (default {CALIBRATION_PARTS})",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from station.services.optimize import check_paths, optimize_model
    from station.services.recipe_file import load_recipe

    check_paths(args.model, args.sample, args.out)
    if args.calibration_parts < 1:
        raise StationError(
            f"--calibration-parts: expected at least 1, got {args.calibration_parts}"
        )
    recipe = load_recipe(args.recipe) if args.recipe is not None else None
    print(f"quantising {args.model} on {args.sample} …", file=sys.stderr)
    result = optimize_model(
        args.model,
        args.sample,
        args.out,
        recipe,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        calibration_parts=args.calibration_parts,
    )
    comparison = result.comparison
    if args.json:
        out = comparison_json(comparison) if comparison is not None else {}
        out["int8_model"] = str(result.out)
        out["float_nodes"] = list(result.float_nodes)
        out["refused"] = list(result.problems)
        out["written_recipe"] = str(result.recipe) if result.recipe else None
        print(json.dumps(out, indent=2))
    else:
        if comparison is not None:
            print(comparison_table(comparison, args.sample))
        print(
            f"\nwrote {result.out} ({len(result.float_nodes)} nodes kept float: the decode "
            "tail and the convolution reading the image)"
        )
    if result.problems:
        print(
            "int8 model REFUSED: " + "; ".join(result.problems) + f". No recipe written; "
            f"{result.out} kept for inspection.",
            file=sys.stderr,
        )
        return EXIT_OUTSIDE
    print(f"wrote {result.recipe}: thresholds re-derived for {result.out.name}", file=sys.stderr)
    return 0
