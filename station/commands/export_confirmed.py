"""`station export-confirmed OUT [--db DB] [--shadow]`: confirmed parts as a YOLO sample."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.storage.paths import default_db_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export-confirmed",
        help="write the log's confirmed parts as a labeled sample (YOLO layout)",
        description=(
            "Write the operator-confirmed parts of the log that have an archived frame as a "
            "labeled sample in the YOLO layout (OUT/images, OUT/labels, OUT/data.yaml), for "
            "`station compare --data OUT` and `station evaluate`. Truth is the latest "
            "confirmation; each true class is one label line covering the frame (samples are "
            "read per part). --shadow keeps only the shadow model's confirmed disagreements."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")
    p.add_argument("--db", type=Path, help="the log (default: the station's log)")
    p.add_argument("--shadow", action="store_true", help="only parts the shadow model disagreed on")
    p.add_argument(
        "--model-sha256",
        metavar="SHA",
        help="parts logged with this model (default: that of the latest confirmed part)",
    )
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from station.services.confirmed_export import export_confirmed

    db = args.db or default_db_path()
    done = export_confirmed(db, args.out, shadow_only=args.shadow, model_sha256=args.model_sha256)
    skipped = ", ".join(f"{n} {why}" for why, n in done.skipped.items()) or "none"
    print(
        f"wrote {done.written} confirmed parts ({done.defective} defective, "
        f"{done.written - done.defective} good) to {args.out}; left out: {skipped}; "
        f"{done.data_yaml}"
    )
    return 0
