"""Stage 1: raw data sets -> :class:`Recording` objects."""

from gaitcnn.errors import GaitDataError
from gaitcnn.io._formats import (
    MCGILL_FILENAME_PATTERN,
    parse_mcgill_filename,
    write_mcgill_file,
    write_ouisir_file,
)
from gaitcnn.io._mcgill import (
    detect_acc_unit,
    detect_timestamp_unit,
    load_mcgill,
    read_mcgill_file,
)
from gaitcnn.io._ouisir import OUISIR_SENSORS, OUISIR_SUBSETS, load_ouisir, read_ouisir_file
from gaitcnn.io._recording import LazyRecordings, Recording

__all__ = [
    "MCGILL_FILENAME_PATTERN",
    "OUISIR_SENSORS",
    "OUISIR_SUBSETS",
    "GaitDataError",
    "LazyRecordings",
    "Recording",
    "detect_acc_unit",
    "detect_timestamp_unit",
    "load_mcgill",
    "load_ouisir",
    "parse_mcgill_filename",
    "read_mcgill_file",
    "read_ouisir_file",
    "write_mcgill_file",
    "write_ouisir_file",
]
