"""Experiment: gait labeling (identification) on OU-ISIR, paper section 4.2 (Table 2, Figs 7-9).

Run as ``python -m gaitcnn.labeling --subjects 744`` (or ``gaitcnn label``). A model
(:class:`gaitcnn.GaitModel`) is trained on the gallery walks of K randomly drawn subjects; every
probe *sequence* is labelled by the model's fusion of its images (the paper: the mean softmax,
RECONSTRUCTION 2.2). Without ``--data-root`` the run uses a simulated OU-ISIR-like data set in the
real file format, and every output says so.

- :mod:`gaitcnn.labeling._protocol`: the pure steps (parameters, subject draw and split, summary);
- :mod:`gaitcnn.labeling._run`: one run (data, cache, estimator, result files);
- :mod:`gaitcnn.labeling._cli`: the command line.
"""

from gaitcnn.labeling._cli import labeling_command
from gaitcnn.labeling._protocol import (
    MAX_PROBE_WINDOWS,
    PAPER_N_SUBJECTS,
    LabelingParams,
    LabelingSplit,
    draw_subjects,
    make_split,
    sequence_rows,
    summarise,
)
from gaitcnn.labeling._run import SIMULATION_SEED, method_label, resolve_data, run_labeling

__all__ = [
    "MAX_PROBE_WINDOWS",
    "PAPER_N_SUBJECTS",
    "SIMULATION_SEED",
    "LabelingParams",
    "LabelingSplit",
    "draw_subjects",
    "labeling_command",
    "make_split",
    "method_label",
    "resolve_data",
    "run_labeling",
    "sequence_rows",
    "summarise",
]
