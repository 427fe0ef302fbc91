"""Where results go besides the journal: a central PostgreSQL (store-and-forward)."""
