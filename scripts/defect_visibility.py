"""How much of each labelled defect the frame shows, and what that caps a class's AUROC at.

    .venv/bin/python scripts/defect_visibility.py [--parts 400] [--seed 1001] [--model M.onnx]

The synthetic line draws about one defect in six faint on purpose, and a few land fainter
than the sensor noise. Each defective part is rendered again at zero defect strength
(`PartGenerator.part(i, strength=0)`: same part, look-alikes, noise and labels); what the
frame shows of a label is its signal, the root of the summed squared change inside its box
in grey levels (what a matched filter that knew where to look would collect; the noise is
sigma 1.5-5 a pixel, and a third of the parts carry a faint machining groove drawn like a
scratch). A label under `--faint` is faint; a part whose every label of a class is faint is
one no model can rank above the good parts but by chance, so the class's expected AUROC
ceiling is 1 - 0.5 * faint parts / positive parts.
With `--model`, each faint part's score and how many negative parts outscore it.
Missing holes are geometry, not contrast: not measured.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from station.synthetic.line import CLASS_NAMES, MISSING_HOLE, PartGenerator

FAINT_SIGNAL = 60.0  # on the held-out sample: 3 scratches at 20-33, every other label >= 91


def signals(seed: int, parts: int) -> list[tuple[int, int, float]]:
    """(part, class id, signal in grey levels) for each contrast-drawn label."""
    gen = PartGenerator(seed)
    rows = []
    for i in range(parts):
        part = gen.part(i)
        if not part.defective:
            continue
        twin = gen.part(i, strength=0.0)
        change = np.abs(part.image.astype(np.float32) - twin.image).max(axis=2)
        for box, c in zip(np.round(part.boxes_xyxy).astype(int), part.class_ids, strict=True):
            if c != MISSING_HOLE:
                x1, y1, x2, y2 = box
                window = change[max(y1 - 2, 0) : y2 + 2, max(x1 - 2, 0) : x2 + 2]
                rows.append((i, int(c), float(np.sqrt(np.square(window).sum()))))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", type=int, default=400)
    p.add_argument("--seed", type=int, default=1001)
    p.add_argument("--faint", type=float, default=FAINT_SIGNAL, help="signal (default 60)")
    p.add_argument("--model", type=Path, help="also rank the faint parts by this model")
    args = p.parse_args()
    rows = signals(args.seed, args.parts)
    scored = None
    if args.model:
        from station.training.card import part_scores

        scored = part_scores(args.model, args.parts, args.seed)[:2]
    print(f"seed {args.seed}, {args.parts} parts; faint: a signal under {args.faint:g}")
    columns = ("class", "labels", "faint", "weakest signals", "positive parts", "faint parts")
    print("| " + " | ".join(columns) + " | AUROC ceiling |")
    print("|---" * (len(columns) + 1) + "|")
    notes = []
    for c, name in enumerate(CLASS_NAMES):
        mine = [(i, level) for i, k, level in rows if k == c]
        if not mine:
            continue
        positives = sorted({i for i, _ in mine})
        faint = [i for i in positives if max(lv for j, lv in mine if j == i) < args.faint]
        smallest = ", ".join(f"{lv:.0f}" for lv in sorted(lv for _, lv in mine)[:4])
        ceiling = 1 - 0.5 * len(faint) / len(positives)
        n_faint = sum(lv < args.faint for _, lv in mine)
        print(
            f"| {name} | {len(mine)} | {n_faint} | {smallest} | {len(positives)} "
            f"| {len(faint)} | {ceiling:.3f} |"
        )
        if scored is not None:
            scores, truth = scored
            negatives = scores[~truth[:, c], c]
            for i in faint:
                above = int((negatives > scores[i, c]).sum())
                notes.append(
                    f"{name} part {i}: score {scores[i, c]:.3f}, "
                    f"{above} of {len(negatives)} negative parts score higher"
                )
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
