"""Quality-control inspection station: ONNX defect detection with defensible thresholds."""

__version__ = "0.1.0"

APP_NAME = "inspection-station"
"""The one name of the application: its user data, config and cache folders, Qt settings."""
