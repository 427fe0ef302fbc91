"""The Qt layer: widgets, view-models and workers. The only package that imports PySide6."""
