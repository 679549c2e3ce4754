"""``python -m gaitcnn.labeling``: see :mod:`gaitcnn.labeling`."""

import logging

from gaitcnn.labeling._cli import labeling_command

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    labeling_command()
