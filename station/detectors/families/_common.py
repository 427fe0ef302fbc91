"""Small vectorised helpers shared by the family decoders."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.core.ports import DetectorError
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import Candidates, Claim, Evidence, Shape, Shapes


def top_per_class(
    scores: npt.NDArray[np.float32], floor: float, k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Multi-label candidates from class scores (nc, A): (class ids, anchor ids, scores).

    Every (class, anchor) pair with score >= `floor` is a candidate, except
    that each class keeps only its `k` best anchors (ties at the k-th score
    may add a few). The best candidate of every class is always kept.
    """
    n = scores.shape[1]
    if n > k:
        kth = np.partition(scores, n - k, axis=1)[:, n - k]
        cut = np.maximum(kth, np.float32(floor))[:, None]
        cls, anchor = np.nonzero(scores >= cut)
    else:
        cls, anchor = np.nonzero(scores >= np.float32(floor))
    return cls, anchor, scores[cls, anchor]


def best_class(
    scores: npt.NDArray[np.float32], floor: float, k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Single-label candidates from class scores (nc, A): (class ids, anchor ids, scores).

    Each anchor proposes its best class only (the first on a tie), as
    Ultralytics `predict` and YOLOv5's detect.py do. At most the `k` best
    anchors are kept, plus each class's best, so every class maximum that
    survives single-label decoding is exact.
    """
    cls_all, conf_all = _first_best_row(scores)
    anchor = np.flatnonzero(conf_all >= np.float32(floor))
    conf, cls = conf_all[anchor], cls_all[anchor]
    keep = cap_candidates(conf, cls, k)
    return cls[keep], anchor[keep], conf[keep]


def _first_best_row(
    scores: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """`argmax` and `max` over axis 0; row by row for a few classes (numpy's column argmax
    is 20x slower than a handful of vectorised compares on a (5, 6400) head)."""
    if scores.shape[0] > 16:
        cls = np.asarray(np.argmax(scores, axis=0), dtype=np.intp)
        return cls, np.take_along_axis(scores, cls[None, :], axis=0)[0]
    best = scores[0].copy()
    cls = np.zeros(scores.shape[1], np.intp)
    for c in range(1, scores.shape[0]):
        better = scores[c] > best  # strictly: the first class wins a tie, as argmax does
        cls[better] = c
        np.maximum(best, scores[c], out=best)
    return cls, best


def cap_candidates(
    confidence: npt.NDArray[np.float32], class_id: npt.NDArray[np.integer], k: int
) -> npt.NDArray[np.intp]:
    """Indices of the `k` best candidates plus each class's best (all when there are <= k),
    best first; equal confidences in index order (a stable sort of all of them, without
    sorting the thousands below the cut)."""
    n = len(confidence)
    if n <= k:
        return np.arange(n)
    kth = np.partition(confidence, n - k)[n - k]  # the k-th highest
    head = np.flatnonzero(confidence >= kth)
    order = head[np.argsort(-confidence[head], kind="stable")][:k]
    missing = np.setdiff1d(np.unique(class_id), class_id[order])
    if not len(missing):
        return order
    best = [np.flatnonzero(class_id == c) for c in missing]
    extra = np.array([idx[np.argmax(confidence[idx])] for idx in best], np.intp)
    return np.concatenate([order, extra[np.lexsort((extra, -confidence[extra]))]])


def cap_keeping_class_best(
    order: npt.NDArray[np.intp], class_id: npt.NDArray[np.integer], limit: int
) -> npt.NDArray[np.intp]:
    """The first `limit` of `order` (best first), plus each class's first entry beyond them.

    A reject decision rests on each class's best score: a global cap must
    never drop it just because other classes filled the quota.
    """
    if len(order) <= limit:
        return order
    _, first = np.unique(class_id[order], return_index=True)
    take = np.zeros(len(order), dtype=bool)
    take[:limit] = True
    take[first] = True
    return order[take]


def cxcywh_to_xyxy(box: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(4, n) rows cx, cy, w, h -> (n, 4) x1, y1, x2, y2 (float32)."""
    centre, half = box[:2], box[2:] * np.float32(0.5)
    return np.concatenate([centre - half, centre + half]).T


def names_fit(meta: ModelMetadata, n_classes: int) -> bool:
    """Metadata `names` recorded and as many as the output implies."""
    return meta.names is not None and len(meta.names) == n_classes


def is_rtdetr(meta: ModelMetadata) -> bool:
    """The exporter recorded an RT-DETR head (or named the model so)."""
    described = meta.raw.get("description", "").lower().replace("-", "")
    return meta.head == "RTDETRDecoder" or "rtdetr" in described


def prototypes_fit(shapes: tuple[tuple[int, ...], ...]) -> int | None:
    """The mask-coefficient count when the second output is (1, nm, mh, mw) prototypes."""
    if len(shapes) != 2 or len(shapes[1]) != 4 or shapes[1][0] != 1:
        return None
    nm, mh, mw = shapes[1][1:]
    return nm if nm >= 1 and mh >= 1 and mw >= 1 else None


def single_output(shapes: Shapes, rank: int) -> Shape | None:
    """The only output's shape when there is one output of this rank and batch 1."""
    s = shapes[0]
    return s if len(shapes) == 1 and len(s) == rank and s[0] == 1 else None


def export_claim(fact: str, shapes: Shapes, layout: str) -> Claim:
    """An exporter's own word (`fact`) on outputs that fit `layout`."""
    noun = "output" if len(shapes) == 1 else "outputs"
    return Claim(Evidence.EXPORT, f"{fact}, {noun} {layout}")


def shape_claim(shapes: Shapes, layout: str) -> Claim:
    """Nothing but the output shapes fit `layout`: the weakest claim."""
    fit = "output shape fits" if len(shapes) == 1 else "output shapes fit"
    return Claim(Evidence.SHAPE, f"{fit} {layout}")


def names_claim(meta: ModelMetadata, n_classes: int | None, layout: str) -> Claim | None:
    """A claim on the metadata `names` count matching the class count the shapes imply."""
    if n_classes is not None and names_fit(meta, n_classes):
        return Claim(Evidence.NAMES, f"{n_classes} metadata names fit {layout}")
    return None


def class_ids(column: npt.NDArray[np.float32], n_classes: int) -> npt.NDArray[np.int64]:
    """Class ids from a float column; DetectorError for one outside 0..n-1."""
    cls = np.rint(column).astype(np.int64)
    bad = (cls < 0) | (cls >= n_classes)
    if bad.any():
        raise DetectorError(f"model output class id {int(cls[bad][0])} outside 0..{n_classes - 1}")
    return cls


def scored_rows(
    p: npt.NDArray[np.float32], floor: float, n_classes: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Rows of a `(N, 6+)` box, score, class layout scoring >= floor, and their class ids.

    N is small and fixed (selected inside the graph): no cap is needed.
    """
    rows = p[np.flatnonzero(p[:, 4] >= floor)]
    return rows, class_ids(rows[:, 5], n_classes)


def pick_classes(
    scores: npt.NDArray[np.float32],
    floor: float,
    max_candidates: int,
    n_classes: int,
    multi_label: bool,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Candidates from class scores (nc, A): every class above the floor (`multi_label`,
    at most about `max_candidates` shared by the classes) or each anchor's best."""
    if multi_label:
        k = max(20, max_candidates // max(1, n_classes))
        return top_per_class(scores, floor, k)
    return best_class(scores, floor, max_candidates)


def from_cxcywh(
    box: npt.NDArray[np.float32],
    conf: npt.NDArray[np.float32],
    cls: npt.NDArray[np.integer],
    coef: npt.NDArray[np.float32] | None = None,
) -> Candidates:
    """Candidates from (4, n) cx, cy, w, h rows, their scores and class ids (and coefficients)."""
    if not cls.size:
        return Candidates.empty(None if coef is None else coef.shape[1])
    return Candidates(cxcywh_to_xyxy(box), conf, cls.astype(np.int64), coef)
