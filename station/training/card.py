"""Measure the shipped model on the held-out synthetic sample; prints the model card tables.

    python -m station.training.card [--model models/defects.onnx] [--parts 400] [--seed 1001]

Runs onnxruntime directly (no station detector code) with Ultralytics' preprocessing, and
reduces each part to its per-class maximum score, single-label as the station's default
decode and Ultralytics `predict` (a class scores only on the anchors whose best class it
is): a part is rejected when any class's maximum reaches that class's threshold (`>=`), as
the station decides. The sample is the
one `station sample OUT` writes by default (same generator, seed and parts).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort

from station.synthetic.line import PartGenerator
from station.synthetic.visibility import FAINT_SIGNAL, label_signals
from station.synthetic.visibility import table as visibility_table
from station.training.letterbox import input_fit, to_input

TRADEOFF_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8)


def part_scores(
    model: Path, parts: int, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Per-part per-class max scores (parts, nc), truth (parts, nc) bool, and metadata."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    imgsz, stride = input_fit(sess)
    nc = len(ast.literal_eval(meta["names"]))
    gen = PartGenerator(seed)
    scores = np.zeros((parts, nc), np.float32)
    truth = np.zeros((parts, nc), bool)
    name = sess.get_inputs()[0].name
    for i in range(parts):
        part = gen.part(i)
        out = sess.run(None, {name: to_input(part.image, imgsz, stride)})[0]  # (1, 4 + nc, A)
        cls = out[0, 4:]
        best = cls.argmax(axis=0)  # single-label: each anchor speaks for its best class only
        mine = np.arange(nc)[:, None] == best[None, :]
        scores[i] = np.where(mine, cls, 0.0).max(axis=1)
        truth[i, part.class_ids] = True
    return scores, truth, meta


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def errors_at(scores: np.ndarray, truth: np.ndarray, thresholds: np.ndarray) -> tuple[int, int]:
    """(escapes, scrapped) at per-class thresholds: reject when any score >= its threshold."""
    rejected = (scores >= thresholds[None, :]).any(axis=1)
    defective = truth.any(axis=1)
    return int((defective & ~rejected).sum()), int((~defective & rejected).sum())


def min_escapes_at_zero_scrap(scores: np.ndarray, truth: np.ndarray) -> int:
    """The fewest escapes of any per-class threshold set that scraps no good part."""
    defective = truth.any(axis=1)
    good_max = scores[~defective].max(axis=0) if (~defective).any() else np.zeros(scores.shape[1])
    caught = (scores[defective] > good_max[None, :]).any(axis=1)
    return int((~caught).sum())


def station_figures(model: Path, parts: int, seed: int) -> list[str]:
    """Kept boxes per labelled defect and errors at the default recipe, through the station.

    What the operator sees: the station's own decode and NMS, then the default recipe's
    per-class thresholds (only when that recipe is bound to this very file).
    """
    from station.core.outcomes import Tally
    from station.core.thresholds import keep_mask, reject_mask
    from station.detectors import load_detector, sha256_file
    from station.services.recipe_file import default_recipe_path, load_recipe

    recipe = load_recipe(default_recipe_path())
    if recipe.thresholds_need_retuning(sha256_file(model)):
        return [
            "(the default recipe is not tuned on this file: run "
            "scripts/retune_default_recipe.py, then write the card again)"
        ]
    detector = load_detector(model)
    names = detector.info.class_names
    t = recipe.thresholds.vector(names)
    rejecting = reject_mask(names, recipe.reject_classes)
    gen = PartGenerator(seed)
    counts = Tally()  # escapes and scrap as every view of the station counts them
    boxes = defects = worst = 0
    for i in range(parts):
        part = gen.part(i)
        dets = detector.detect(part.image)
        kept = keep_mask(dets, t) & rejecting[dets.class_id]
        counts.add(part.defective, shipped=not kept.any())
        if part.defective:
            boxes += int(kept.sum())
            defects += len(part.class_ids)
            worst = max(worst, int(kept.sum()) - len(part.class_ids))
    c = counts
    per_defect = boxes / max(defects, 1)
    return [
        f"At the default recipe's thresholds (`station/resources/default_recipe.toml`, tuned on "
        f"this file with `scripts/retune_default_recipe.py` on the tuning seed 2002), through "
        f"the station's own decode and NMS: {c.escapes} escapes of {c.defective} defective "
        f"parts ({c.escapes / max(c.defective, 1):.1%}), {c.scrap} scrapped of {c.good} good "
        f"parts ({c.scrap / max(c.good, 1):.1%}); {boxes} kept boxes for {defects} labelled "
        f"defects ({per_defect:.2f} per defect; at most {worst} extra boxes on one part).",
    ]


def report(model: Path, parts: int, seed: int) -> str:
    scores, truth, meta = part_scores(model, parts, seed)
    names = ast.literal_eval(meta["names"])
    defective = truth.any(axis=1)
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    lines = [
        f"model: {model} ({model.stat().st_size / 1e6:.2f} MB), sha256 {sha}",
        f"held-out sample: seed {seed}, {parts} parts, {int(defective.sum())} defective, "
        f"{int((~defective).sum())} good",
        "",
        "Per-class maximum score per part (single-label, as the station decodes by default: a "
        "class scores only on the anchors whose best class it is): parts with a defect of that "
        "class vs. all others",
        "",
        "| class | n true | true p10 | true p50 | true p90 | n other | other p50 | other p90 "
        "| other p99 | other max | AUROC |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in range(scores.shape[1]):
        pos, neg = scores[truth[:, c], c], scores[~truth[:, c], c]
        q = np.quantile(pos, [0.1, 0.5, 0.9]) if len(pos) else [np.nan] * 3
        r = np.quantile(neg, [0.5, 0.9, 0.99]) if len(neg) else [np.nan] * 3
        lines.append(
            f"| {names[c]} | {len(pos)} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} | {len(neg)} "
            f"| {r[0]:.3f} | {r[1]:.3f} | {r[2]:.3f} | {neg.max():.3f} | {auroc(pos, neg):.3f} |"
        )
    nd, ng = int(defective.sum()), int((~defective).sum())
    e, s = errors_at(scores, truth, np.full(scores.shape[1], 0.25, np.float32))
    lines += [
        "",
        f"At the default threshold 0.25 for every class: {e} escapes of {nd} defective parts, "
        f"{s} scrapped of {ng} good parts.",
        "",
        "| threshold (all classes) | escapes | escape rate | scrapped | scrap rate |",
        "|---:|---:|---:|---:|---:|",
    ]
    for t in TRADEOFF_THRESHOLDS:
        e, s = errors_at(scores, truth, np.full(scores.shape[1], t, np.float32))
        lines.append(f"| {t:.2f} | {e} | {e / max(nd, 1):.1%} | {s} | {s / max(ng, 1):.1%} |")
    m = min_escapes_at_zero_scrap(scores, truth)
    lines += [
        "",
        f"Best per-class threshold set with zero scrap still lets {m} defective parts escape "
        "(so no threshold set makes both errors zero on this sample).",
        "",
        *faint_labels(scores, truth, names, parts, seed),
        "",
        *station_figures(model, parts, seed),
    ]
    return "\n".join(lines)


def faint_labels(
    scores: np.ndarray, truth: np.ndarray, names: dict[int, str], parts: int, seed: int
) -> list[str]:
    """What the frames show of each class's labels, the AUROC that caps the class at, and
    where this model ranks the parts whose labels the frame barely shows."""
    classes = label_signals(seed, parts)
    lines = [
        "What the frames show of the labels (`station.synthetic.visibility`: each defective "
        "part rendered again with its defects at zero strength; signal = root of the summed "
        f"squared change in the label's box, in grey levels; faint: under {FAINT_SIGNAL:g}). "
        "A part whose labels of a class are all faint can be ranked above the good parts only "
        "by chance: the ceiling is the AUROC a model at its best on every other part expects.",
        "",
        *visibility_table(classes),
    ]
    for v in classes:
        c = next(k for k, name in names.items() if name == v.name)
        negatives = scores[~truth[:, c], c]
        ranks = [
            f"part {i} scores {scores[i, c]:.3f}, below {int((negatives > scores[i, c]).sum())}"
            for i in v.faint_parts()
        ]
        if ranks:
            lines += [
                "",
                f"Faint {v.name} parts, against {len(negatives)} others: " + "; ".join(ranks) + ".",
            ]
    return lines


CARD_TEMPLATE = """\
# Model card: `models/defects.onnx`

A small defect detector for the station's synthetic production line
(`station.synthetic.line`), shipped so the station runs and can be tuned with no download.
It is exported exactly like an Ultralytics YOLOv8 detection model, so the station loads it
through the same code path as a user's YOLO export.

| | |
|---|---|
| file | `models/defects.onnx`, {size_mb:.2f} MB, opset 17 |
| SHA-256 | `{sha}` |
| classes | {classes} |
| input | {input_row} |
| output | {output_row} |
| metadata | {meta_row} |

## Preprocessing (the Ultralytics contract)

Letterbox the BGR frame to fit {imgsz} x {imgsz} keeping its aspect ratio (scale
`r = min({imgsz}/h, {imgsz}/w)`, bilinear resize, centred, padding value 114){pad_rule}, BGR -> RGB,
divide by 255, HWC -> NCHW, float32. {frame_note}
Boxes map back to frame pixels as `(xy - pad) / r`.

## Architecture and training

Anchor-free, one prediction per grid cell at stride 8 ({grid_note}): a plain
conv/BN/SiLU backbone down to stride 32, a top-down path back to stride 8, and two 1x1 heads:
per-class heatmap logits trained with CenterNet's penalty-reduced focal loss on Gaussian
heatmaps, and four distances (left, top, right, bottom) from the cell centre trained with
GIoU loss. The decode to cx, cy, w, h, the sigmoid and CenterNet's peak test are inside the
exported graph: a class score stays only where no cell of its 3x3 neighbourhood scores that
class higher (`station.training.peaks`), so the cells around one defect give one box, not a
cluster that NMS folds only where the boxes overlap enough.

```bash
bash scripts/setup.sh && .venv/bin/pip install -e '.[train]'
.venv/bin/python -m station.training.train --seed 0 --out models/defects.onnx
```

Exact arguments, as recorded in the file's `training` metadata:
`{training}`.

Training parts are parts 0..{parts_minus_1} of the line with seed 50000 + `--seed`,
letterboxed once into memory as the station feeds the model (a 640 x 480 frame
stays 640 x 480: no grey bands the model would not see on the line); each step takes
{batch} random {crop} x {crop} crops (holding a defect when the part has one; `--focus`
classes get `--focus-share` of each batch and are cropped first), random flips and
gain/offset jitter. Box regression is trained on every cell of a defect's central blob
(heat >= 0.3 inside the box), not only its centre cell, so that the peak cell that stays
predicts the whole box. AdamW, lr 3e-3 with warm-up and cosine decay; the exported weights
are an exponential moving average of the trained ones (`--ema`, decay 0.9995, as YOLO's
trainers keep). On this 2-core machine training took {minutes} minutes including the ~1-2
minutes a run spends generating its parts.{note} `--max-minutes` caps the run on a slower machine
(the schedule then ends on time rather than on steps; pass `--max-minutes 0` for a run
fixed by `--steps` alone). Torch on CPU is deterministic for a given seed and thread count
only up to floating-point reduction order, so a retrained file
has a different SHA-256: re-tune thresholds on it.

## Measured quality on the held-out sample

Measured by `python -m station.training.card` (onnxruntime directly, no station code) on
{n_parts} parts of the line with seed {seed}: the sample `station sample OUT` writes by default;
no part of it was seen in training. Each part is reduced to its per-class maximum score, and
a part is rejected when any class's maximum is `>=` the threshold, as the station decides.

{tables}

What the numbers say:

- Scores rank: every class separates its defective parts from the rest far better than
  chance (AUROC column), yet they are not calibrated probabilities and not comparable
  across classes (the medians of the `true p50` column differ from class to class), and on
  `scratch` good parts with reflections or machining grooves reach into the defective
  parts' range (its `other p99`). One threshold for all classes is therefore a poor choice;
  tune per class (`station evaluate`, the tuning view).
- There is a real trade-off: lowering thresholds catches more defects and scraps more good
  parts, and no threshold set reaches zero escapes and zero scrap together. Faint defects
  (about one in six is drawn at low contrast) are the escapes that remain at any sensible
  threshold.
- Rates on {n_parts} parts carry sampling error: quote counts with a Wilson interval.

## Limits

Trained and measured only on the synthetic line; on real images it means nothing. Retrain
with the station's data or replace it with your own export and re-tune the thresholds.
"""


OUTPUT_ROW = (
    "`output0`, float32 `({batch}, 9, {anchors})`: YOLOv8 raw layout `(1, 4 + nc, A)`; rows "
    "0-3 are box cx, cy, w, h in input pixels, rows 4-8 per-class scores in [0, 1] (sigmoid "
    "applied in the graph, kept only at 3x3 heatmap peaks, else 0); no NMS inside"
)


def input_geometry(imgsz: int, stride: int) -> dict[str, str]:
    """The card's input row, padding rule, 640 x 480 frame note, grid note and output row
    (`stride` 0: a fixed square input)."""
    native = " (its native pixels, r = 1)" if imgsz == 640 else ""
    if not stride:
        side = imgsz // 8
        return {
            "input_row": f"`images`, float32 `(1, 3, {imgsz}, {imgsz})`, NCHW",
            "pad_rule": f" to {imgsz} x {imgsz}",
            "frame_note": f"A 640 x 480 line frame becomes {imgsz} x {imgsz * 3 // 4}{native} "
            f"with {(imgsz - imgsz * 3 // 4) // 2} rows of padding above and below.",
            "grid_note": f"{side} x {side} = {side * side} cells",
            "output_row": OUTPUT_ROW.format(batch=1, anchors=side * side),
        }
    h = imgsz * 3 // 4
    return {
        "input_row": f"`images`, float32 `(batch, 3, height, width)`, NCHW: any size whose "
        f"sides are multiples of {stride} (exported like Ultralytics' `dynamic=True`; the "
        "station runs batch 1)",
        "pad_rule": f", padded only up to a multiple of {stride} on each side (Ultralytics' "
        "`LetterBox(auto=True)`, its `rect` inference)",
        "frame_note": f"A 640 x 480 line frame becomes a {imgsz} x {h} input{native} with no "
        f"padding: {imgsz * h // 64} cells instead of the {imgsz * imgsz // 64} of a "
        "square input, a quarter less compute.",
        "grid_note": f"(height / 8) x (width / 8) cells, {imgsz // 8} x {h // 8} = "
        f"{imgsz * h // 64} for a 640 x 480 frame",
        "output_row": OUTPUT_ROW.format(batch="batch", anchors="anchors"),
    }


def write_card(
    model: Path, parts: int, seed: int, minutes: float, out: Path, note: str = ""
) -> None:
    """Write the model card (models/README.md) with freshly measured tables."""
    opts = ort.SessionOptions()
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    imgsz, stride = input_fit(sess)
    del sess
    body = report(model, parts, seed)
    tables = "\n".join(body.splitlines()[3:])
    names = ast.literal_eval(meta["names"])
    training = meta.get("training", "")

    def arg(name: str, default: int) -> int:
        flag = f"--{name} "
        return int(training.split(flag)[1].split()[0]) if flag in training else default

    cache_parts = arg("parts", 3000)
    geometry = input_geometry(imgsz, stride)
    text = CARD_TEMPLATE.format(
        size_mb=model.stat().st_size / 1e6,
        sha=hashlib.sha256(model.read_bytes()).hexdigest(),
        classes=", ".join(f"{i} `{n}`" for i, n in names.items()),
        imgsz=imgsz,
        **geometry,
        batch=arg("batch", 16),
        crop=arg("crop", 192),
        meta_row=(
            f"`names` `{meta['names']}`, `imgsz` `{meta['imgsz']}`, `stride` "
            f"`{meta['stride']}`, `task` `{meta['task']}`, plus `description`, `author`, "
            f"`license`, `version`, `batch`, {'`args`, ' if 'args' in meta else ''}`training`"
        ),
        training=training,
        parts_minus_1=cache_parts - 1,
        minutes=f"{minutes:.0f}",
        note=f" {note}" if note else "",
        n_parts=parts,
        seed=seed,
        tables=tables,
    )
    out.write_text(_with_kept_section(text, out))


KEPT_SECTION = "## Qualification"
"""A hand-written section of the card (the model's qualification with `station compare`)
that rewriting the card keeps, before "## Limits"."""


def _with_kept_section(text: str, old_card: Path) -> str:
    old = old_card.read_text() if old_card.exists() else ""
    if KEPT_SECTION not in old:
        return text
    start = old.index(KEPT_SECTION)
    end = old.find("\n## ", start + 1)
    section = old[start : len(old) if end < 0 else end + 1]
    return text.replace("## Limits", f"{section.rstrip()}\n\n## Limits", 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("models/defects.onnx"))
    p.add_argument("--parts", type=int, default=400)
    p.add_argument("--seed", type=int, default=1001)
    p.add_argument("--write-card", type=Path, help="also write the full model card here")
    p.add_argument("--trained-minutes", type=float, default=0.0, help="for --write-card")
    p.add_argument("--train-note", default="", help="for --write-card: how the run ended")
    args = p.parse_args(argv)
    if args.write_card:
        write_card(
            args.model,
            args.parts,
            args.seed,
            args.trained_minutes,
            args.write_card,
            args.train_note,
        )
        print(f"wrote {args.write_card}")
    else:
        print(report(args.model, args.parts, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
