"""The tuning view: drag a class's threshold and see escapes, scrap and cost move.

`TuningView` is the tab; `TuningViewModel` holds the sample and the two
threshold sets (saved and dragged) and calls the core for every number.
"""

from station.ui.tuning.tuning_view import TuningView
from station.ui.tuning.tuning_vm import TuningViewModel

__all__ = ["TuningView", "TuningViewModel"]
