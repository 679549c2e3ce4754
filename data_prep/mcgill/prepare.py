"""Prepare the McGill gait data set (or its simulated stand-in) for training.

Where the data come from: Frank et al., McGill University (20 subjects x 2 days, ~15 minutes
each, Android phone loose in a trouser pocket). gaitcnn never downloads it. Point
``--data-root`` (or ``$GAITCNN_DATA_DIR``) at a folder of per-subject, per-day text files
(``timestamp, ax, ay, az[, gx, gy, gz]``; see ``gaitcnn.io.load_mcgill`` for the detected
variants). Without a root, 20 subjects x 2 days x 15 minutes are simulated in that format.

    python -m data_prep.mcgill.prepare [--data-root DIR] [--cache-dir DIR] [--workers N]
"""

from data_prep._common import run

if __name__ == "__main__":
    run("mcgill", __doc__.splitlines()[0])
