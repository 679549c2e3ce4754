"""Stage 1: raw data sets -> :class:`Recording` objects."""

from gaitcnn.errors import GaitDataError
from gaitcnn.io._checks import PLAUSIBILITY_CHECKS
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
    mcgill_files,
    read_mcgill_file,
)
from gaitcnn.io._ouisir import (
    OUISIR_SENSORS,
    OUISIR_SUBSETS,
    load_ouisir,
    ouisir_files,
    read_ouisir_file,
)
from gaitcnn.io._recording import LazyRecordings, Recording

__all__ = [
    "MCGILL_FILENAME_PATTERN",
    "OUISIR_SENSORS",
    "OUISIR_SUBSETS",
    "PLAUSIBILITY_CHECKS",
    "GaitDataError",
    "LazyRecordings",
    "Recording",
    "detect_acc_unit",
    "detect_timestamp_unit",
    "load_mcgill",
    "load_ouisir",
    "mcgill_files",
    "ouisir_files",
    "parse_mcgill_filename",
    "read_mcgill_file",
    "read_ouisir_file",
    "write_mcgill_file",
    "write_ouisir_file",
]
