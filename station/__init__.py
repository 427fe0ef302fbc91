"""Quality-control inspection station: ONNX defect detection with defensible thresholds."""

__version__ = "0.1.0"
