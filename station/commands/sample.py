"""`station sample OUT [--parts N] [--seed S]`: write a labeled sample of the synthetic line."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.core.errors import StationError
from station.synthetic.dataset import DEFAULT_SAMPLE_PARTS, DEFAULT_SAMPLE_SEED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sample",
        help="write a labeled sample of the synthetic line (YOLO layout)",
        description=(
            "Write parts of the synthetic production line as a labeled sample in the YOLO "
            "layout: OUT/images/*.png, OUT/labels/*.txt (empty for a good part), OUT/data.yaml. "
            "Deterministic: the same --parts and --seed always write the same files. The "
            f"defaults ({DEFAULT_SAMPLE_PARTS} parts, seed {DEFAULT_SAMPLE_SEED}) write the "
            "held-out sample the shipped model card was measured on."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT", help="folder to write (created if missing)")
    p.add_argument("--parts", type=int, default=DEFAULT_SAMPLE_PARTS, help="number of parts")
    p.add_argument("--seed", type=int, default=DEFAULT_SAMPLE_SEED, help="line seed")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from station.synthetic.dataset import write_yolo_sample
    from station.synthetic.line import CLASS_NAMES

    _refuse_foreign_files(args.out, args.parts)
    data_yaml = write_yolo_sample(args.out, args.parts, args.seed)
    labels = sorted((args.out / "labels").glob("*.txt"))
    defective = sum(1 for f in labels[: args.parts] if f.stat().st_size > 0)
    print(
        f"wrote {args.parts} parts ({defective} defective, {args.parts - defective} good) "
        f"of seed {args.seed} to {args.out}; classes: {', '.join(CLASS_NAMES)}; {data_yaml}"
    )
    return 0


def _refuse_foreign_files(out: Path, parts: int) -> None:
    """Refuse a folder holding files this sample would not overwrite (a bigger or other sample):
    they would silently join the sample (`station evaluate` reads every image). Rewriting the
    same or a larger sample in place is fine."""
    foreign = [
        f
        for sub, suffix in (("images", ".png"), ("labels", ".txt"))
        if (out / sub).is_dir()
        for f in sorted((out / sub).iterdir())
        if not (f.suffix == suffix and f.stem.isdigit() and int(f.stem) < parts)
    ]
    if foreign:
        raise StationError(
            f"{out}: already holds {len(foreign)} files this sample would not write "
            f"(e.g. {foreign[0].relative_to(out)}); write to an empty folder"
        )
