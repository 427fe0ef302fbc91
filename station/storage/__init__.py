"""The station's SQLite shift log: inspections, events (audit trail), reject archive, reports."""
