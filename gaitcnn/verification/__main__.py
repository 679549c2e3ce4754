"""``python -m gaitcnn.verification``: the open-set verification protocol on the command line.

The command joins the ``gaitcnn`` group here (one-line errors, ``--debug`` anywhere), so the
group itself needs no change (see :mod:`gaitcnn.verification._cli`).
"""

from gaitcnn.cli import main, run_as_module
from gaitcnn.verification._cli import verification_command

if __name__ == "__main__":
    if "verification" not in main.commands:
        main.add_command(verification_command, name="verification")
    run_as_module("verification")
