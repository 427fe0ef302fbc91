"""Training and measuring the shipped defect model (torch lives only here; `.[train]` extra)."""
