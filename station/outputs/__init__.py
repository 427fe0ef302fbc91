"""Where a part's outcome goes beyond the log (a PLC, a central database)."""
