"""Re-tune the shipped default recipe's thresholds on the shipped model.

    .venv/bin/python scripts/retune_default_recipe.py --check   # exit 1 when stale
    .venv/bin/python scripts/retune_default_recipe.py           # re-tune and write back

Thresholds belong to the model they were measured on. Whenever
models/defects.onnx is re-committed, the default recipe's
`tuned_on_model_sha256` no longer matches (tests/test_recipe.py fails), and
this script measures new thresholds on a tuning sample of the synthetic line
(seed 2002: apart from the training seeds and from the held-out sample, seed
1001, that `station evaluate` and the tuning view check them on), picks the
least-expected-cost set at the recipe's costs (the escape-cap set instead when
the cost optimum breaks the cap) and writes it back with the model's hash,
keeping the file's comments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

TUNING_SEED = 2002
TUNING_PARTS = 1000


def main() -> int:
    from station.core.recommend import recommend_escape_cap, recommend_min_cost
    from station.core.recommendation import Recommendation
    from station.core.thresholds import reject_mask
    from station.detectors import load_detector, sha256_file
    from station.evaluation import score_folder
    from station.services.recipe_file import default_recipe_path, load_recipe
    from station.services.recipe_write import save_recipe_thresholds
    from station.synthetic.dataset import write_yolo_sample

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is stale")
    parser.add_argument(
        "--force",
        action="store_true",
        help="re-tune even when bound to this model (the detector's decoding changed)",
    )
    parser.add_argument("--parts", type=int, default=TUNING_PARTS)
    parser.add_argument("--seed", type=int, default=TUNING_SEED)
    args = parser.parse_args()

    recipe = load_recipe(default_recipe_path())
    sha = sha256_file(recipe.model.path)
    if not recipe.thresholds_need_retuning(sha) and not args.force:
        print(f"default recipe is bound to {recipe.model.path.name} ({sha[:12]}…): up to date")
        return 0
    print(
        f"default recipe thresholds were tuned on {recipe.thresholds.model_sha256}, model is {sha}"
    )
    if args.check:
        return 1
    detector = load_detector(recipe.model.path, recipe.model.labels, recipe.model.family)
    names = detector.info.class_names
    rejecting = reject_mask(names, recipe.reject_classes)
    with tempfile.TemporaryDirectory() as tmp:
        write_yolo_sample(Path(tmp), args.parts, args.seed)
        sample = score_folder(detector, tmp, use_cache=False).sample
    current = recipe.thresholds.vector(names)
    costs = recipe.costs
    chosen = recommend_min_cost(sample, rejecting, costs.escape, costs.scrap, current=current)
    if costs.max_escape_rate is not None and isinstance(chosen, Recommendation):
        hi = chosen.confusion.far.ci95[1] if chosen.confusion.far.ci95 else 1.0
        if hi > costs.max_escape_rate:
            capped = recommend_escape_cap(
                sample, rejecting, costs.max_escape_rate, costs.escape, costs.scrap, current=current
            )
            if isinstance(capped, Recommendation):
                chosen = capped
            else:
                print(f"escape cap: {capped.reason}")
    if not isinstance(chosen, Recommendation):
        print(f"no recommendation: {chosen.reason}", file=sys.stderr)
        return 2
    new = recipe.thresholds.with_thresholds(dict(chosen.thresholds)).bound_to(sha)
    save_recipe_thresholds(recipe, new)
    print(chosen.explanation)
    print("wrote", recipe.path, dict(new.class_thresholds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
