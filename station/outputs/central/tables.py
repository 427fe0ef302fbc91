"""What each outbox kind is, locally and centrally: one table spec per kind.

A journal row travels as one central row keyed by (station_id, sequence), the
station's identity and the row's outbox sequence. The journal's outbox reader
(station/storage/outbox.py) yields these columns in this order.
Images stay on the station: an `image` row carries the archived frame's path,
size and SHA-256 (hashed when it is sent; None once the archive pruned it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One outbox kind: its central table and columns after (station_id, sequence)."""

    kind: str
    table: str
    columns: tuple[str, ...]


INSPECTION = KindSpec(
    "inspection",
    "inspections",
    (
        "id",
        "time_utc",
        "logged_station_id",
        "product",
        "shift_id",
        "part_sequence",
        "outcome",
        "reasons",
        "class_names",
        "max_scores",
        "kept",
        "threshold_set_id",
        "model_sha256",
        "latency_ms",
        "truth_defective",
        "zone",
        "why",
        "extra",
        "link",
    ),
)
IMAGE = KindSpec("image", "images", ("inspection_id", "path", "bytes", "sha256"))
CONFIRMATION = KindSpec(
    "confirmation",
    "confirmations",
    ("id", "inspection_id", "time_utc", "defective", "class_name", "operator", "link"),
)
EVENT = KindSpec(
    "event", "events", ("id", "time_utc", "kind", "message", "details", "prev_hash", "hash")
)
SHIFT = KindSpec("shift", "shifts", ("id", "name", "start_utc", "end_utc", "zone"))
THRESHOLD_SET = KindSpec("threshold_set", "threshold_sets", ("id", "thresholds"))

KINDS: dict[str, KindSpec] = {
    k.kind: k for k in (SHIFT, THRESHOLD_SET, INSPECTION, IMAGE, CONFIRMATION, EVENT)
}
