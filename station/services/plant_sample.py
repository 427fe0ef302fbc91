"""Operator-confirmed parts from every station that ran one model: a bigger tuning sample.

Scores are only comparable within one model, so only parts logged with the
station's model SHA-256 are taken, whichever station logged them; the truth
of each part is its latest confirmation, by the same rules as one journal's
confirmed sample (station.storage.samples). The frames stay on their
stations: parts carry no image here.
"""

from __future__ import annotations

from station.outputs.central import schema
from station.outputs.central.connection import check_url, connect
from station.outputs.central.plant_queries import confirmed_parts
from station.storage.samples import ConfirmedPart, ConfirmedSample, build_confirmed


def plant_confirmed_sample(url: str, model_sha256: str) -> ConfirmedSample:
    """Raises StationError when the database is unreachable or has no usable part."""
    target = check_url(url)
    conn = connect(url, application_name="station tuning")
    try:
        schema.require_current(conn, f"central database {target}")
        rows, others = confirmed_parts(conn, model_sha256)
    finally:
        conn.close()
    parts = [
        ConfirmedPart(
            f"{station}#{row_id}",
            int(row_id),
            names,
            bytes(blob),
            reasons,
            outcome,
            None,
            bool(defective),
            cls,
        )
        for station, row_id, names, blob, reasons, outcome, _path, defective, cls in rows
    ]
    return build_confirmed(parts, model_sha256, others, f"central database {target}")
