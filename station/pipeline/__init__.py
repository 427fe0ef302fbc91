"""The Qt-free per-part pipeline: acquire, check, detect, decide, record, log, output."""
