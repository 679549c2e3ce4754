"""``python -m gaitcnn.authentication``: the same as ``gaitcnn authenticate``."""

from gaitcnn.cli import run_as_module

if __name__ == "__main__":
    run_as_module("authenticate")
