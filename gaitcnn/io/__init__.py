"""Stage 1: raw data sets -> :class:`Recording` objects."""

from gaitcnn.errors import GaitDataError
from gaitcnn.io._recording import Recording

__all__ = ["GaitDataError", "Recording"]
