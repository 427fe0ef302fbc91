"""The file formats the station reads besides recipes: image files and YOLO label lines.

Below the adapters (a camera replaying a folder, a labeled sample, `station detect` all read
them the same way) and above the core.
"""
