"""Qt-free, I/O-free domain core: numpy only (enforced by import-linter)."""
