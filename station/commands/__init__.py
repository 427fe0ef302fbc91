"""One module per subcommand; each exposes `register(subparsers)` setting `func`."""

from types import ModuleType

from station.commands import (
    audit,
    central,
    compare,
    detect,
    evaluate,
    export_confirmed,
    model_info,
    optimize,
    promote,
    report,
    run,
    sample,
    sync,
)

COMMANDS: tuple[ModuleType, ...] = (
    run,
    model_info,
    detect,
    evaluate,
    compare,
    optimize,
    promote,
    sample,
    export_confirmed,
    report,
    audit,
    sync,
    central,
)
