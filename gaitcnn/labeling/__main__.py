"""``python -m gaitcnn.labeling``: the same as ``gaitcnn label`` (see :mod:`gaitcnn.labeling`)."""

from gaitcnn.cli import run_as_module

if __name__ == "__main__":
    run_as_module("label")
