"""Measure the shipped model on the held-out synthetic sample; prints the model card tables.

    python -m station.training.card [--model models/defects.onnx] [--parts 400] [--seed 1001]

Runs onnxruntime directly (no station detector code) with Ultralytics' preprocessing, and
reduces each part to its per-class maximum score: a part is rejected when any class's
maximum reaches that class's threshold (`>=`), as the station decides. The sample is the
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
from station.training.letterbox import to_input

TRADEOFF_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8)


def part_scores(
    model: Path, parts: int, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Per-part per-class max scores (parts, nc), truth (parts, nc) bool, and metadata."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    imgsz = ast.literal_eval(meta["imgsz"])[0]
    nc = len(ast.literal_eval(meta["names"]))
    gen = PartGenerator(seed)
    scores = np.zeros((parts, nc), np.float32)
    truth = np.zeros((parts, nc), bool)
    name = sess.get_inputs()[0].name
    for i in range(parts):
        part = gen.part(i)
        out = sess.run(None, {name: to_input(part.image, imgsz)})[0]  # (1, 4 + nc, A)
        scores[i] = out[0, 4:].max(axis=1)
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
        "Per-class maximum score per part: parts with a defect of that class vs. all others",
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
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("models/defects.onnx"))
    p.add_argument("--parts", type=int, default=400)
    p.add_argument("--seed", type=int, default=1001)
    args = p.parse_args(argv)
    print(report(args.model, args.parts, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
