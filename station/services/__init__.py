"""Station services: what the commands and the GUI do with a recipe, thresholds and samples.

Above the pipeline and the adapters, below the front ends (station.ui, station.commands).
"""
