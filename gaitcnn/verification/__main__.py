"""``python -m gaitcnn.verification``: the open-set verification protocol on the command line.

The same command as ``gaitcnn verification`` (one-line errors, ``--debug`` anywhere).
"""

from gaitcnn.cli import run_as_module

if __name__ == "__main__":
    run_as_module("verification")
