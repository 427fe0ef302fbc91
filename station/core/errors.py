"""Errors a user can fix: the CLI prints their message as one line, never a traceback."""


class StationError(Exception):
    """A problem with input the user gave (file, model, recipe, threshold, image)."""
