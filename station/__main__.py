"""`python -m station` runs the same entry point as the `station` console script."""

from station.cli import main

raise SystemExit(main())
