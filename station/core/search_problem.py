"""The threshold search's problem: each reject class's useful levels, each part's level index.

A part passes when every reject class scores below its threshold, so the
useful thresholds of a class are its observed score levels (a threshold
equal to a score rejects that part) plus "above every score". Levels are
pruned without loss: a threshold never needs to sit on a level held only by
good parts (raising it past that level passes good parts, never a defective
one), nor just above a level held only by defective parts.

Escapes and scrap are `outcomes`' counts: parts without a decision never
ship, so a good one is scrap at every threshold and a defective one never
escapes; only decided parts get level indices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.sample import BoolArray, F32Array, ScoredSample

IntpArray = npt.NDArray[np.intp]
F64Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Problem:
    """Reject classes' candidate levels and every decidable part's level index.

    Part p passes thresholds at candidate indices j iff k[p, i] <= j[i] for all i.
    """

    class_idx: IntpArray  # model class index of each searched class
    cands: tuple[F32Array, ...]
    k: IntpArray  # (n_live, d)
    is_def: BoolArray  # (n_live,)
    n_def: int
    n_good: int
    notes: tuple[str, ...]

    @property
    def dims(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.cands)


def build_problem(sample: ScoredSample, rejecting: BoolArray, current: F32Array) -> Problem:
    defective = outcomes.defective_parts(sample.truth, rejecting)
    live = ~outcomes.no_decision_rows(sample.scores)
    is_def = defective[live]
    class_idx = np.flatnonzero(rejecting)
    cands: list[F32Array] = []
    notes: list[str] = []
    ks: list[IntpArray] = []
    for c in class_idx:
        col = sample.scores[live, c]
        seen = np.isfinite(col) & (col >= 0)  # a negative score can never reach a threshold
        lv = np.minimum(col[seen], np.float32(1.0))
        if lv.size == 0:
            cand = np.array([current[c]], dtype=np.float32)
        else:
            levels, inv = np.unique(lv, return_inverse=True)
            has_def = np.bincount(inv, weights=is_def[seen], minlength=len(levels)) > 0
            has_good = np.bincount(inv, weights=~is_def[seen], minlength=len(levels)) > 0
            keep = has_def.copy()
            keep[1:] &= has_good[:-1]
            keep[0] = True
            chosen = list(levels[keep])
            top = levels[-1]
            if top >= np.float32(1.0):
                n_top = int((lv >= np.float32(1.0)).sum())
                notes.append(
                    f"{sample.class_names[c]}: {n_top} part(s) score exactly 1.0, which every "
                    "threshold in [0, 1] rejects; this class cannot be switched off"
                )
            elif has_good[-1] or not chosen:
                chosen.append(np.nextafter(top, np.float32(np.inf)))
            cand = np.array(chosen, dtype=np.float32)
        cands.append(cand)
        k = np.searchsorted(cand, sample.scores[live, c], side="right")
        k[np.isnan(sample.scores[live, c])] = 0  # unreachable: NaN rows are not live
        ks.append(k.astype(np.intp))
    k_all = np.stack(ks, axis=1) if ks else np.zeros((int(live.sum()), 0), dtype=np.intp)
    n_def = int(defective.sum())
    return Problem(
        class_idx,
        tuple(cands),
        k_all,
        is_def,
        n_def,
        sample.n_parts - n_def,
        tuple(notes),
    )


Objective = Callable[[F64Array, F64Array], F64Array]
"""Maps (escapes, scrap) tables to a value to minimise; ties go to fewer escapes."""


def tables(k: IntpArray, is_def: BoolArray, dims: tuple[int, ...]) -> tuple[F64Array, F64Array]:
    """(defective parts passed, good parts passed) for every combination of level indices."""
    shape = tuple(m + 1 for m in dims)
    size = math.prod(shape)
    flat = np.ravel_multi_index(tuple(k.T), shape) if dims else np.zeros(len(k), np.intp)
    hd = np.bincount(flat[is_def], minlength=size).astype(np.float64).reshape(shape)
    hg = np.bincount(flat[~is_def], minlength=size).astype(np.float64).reshape(shape)
    for ax in range(len(dims)):
        np.cumsum(hd, axis=ax, out=hd)
        np.cumsum(hg, axis=ax, out=hg)
    sl = tuple(slice(0, m) for m in dims)
    return hd[sl], hg[sl]


def evaluate(prob: Problem, j: IntpArray) -> tuple[int, int]:
    passed = np.all(prob.k <= j, axis=1)
    escapes = int((passed & prob.is_def).sum())
    return escapes, prob.n_good - int((passed & ~prob.is_def).sum())
