"""Average the weights of training runs that started from one another (a "model soup").

    python -m station.training.average run0.pt run1.pt --out soup.pt

Runs fine-tuned from the same weights (`train --init`) stay in one basin of the loss, where
their mean often scores better than either: the shipped model's third run starts from the
mean of the first two (models/README.md). Batch-norm statistics are averaged like the
weights; integer buffers (batch counters) are the first run's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def average(paths: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of the runs' state dicts (`train --checkpoint` files)."""
    states = [torch.load(p) for p in paths]
    keys = states[0].keys()
    if any(s.keys() != keys for s in states[1:]):
        raise SystemExit("average: the checkpoints hold different tensors (another architecture)")
    return {
        k: torch.stack([s[k] for s in states]).mean(0) if states[0][k].is_floating_point()
        else states[0][k]
        for k in keys
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("checkpoints", type=Path, nargs="+", help="train --checkpoint files")
    p.add_argument("--out", type=Path, required=True, help="the averaged weights (for --init)")
    args = p.parse_args(argv)
    torch.save(average(args.checkpoints), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
