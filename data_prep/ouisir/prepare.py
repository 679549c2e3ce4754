"""Prepare the OU-ISIR inertial sensor gait database (or its simulated stand-in) for training.

Where the data come from: the OU-ISIR Gait Database, Inertial Sensor Dataset (Ngo et al.,
Pattern Recognition 47(1), 2014), distributed by Osaka University under a signed release
agreement. gaitcnn never downloads it. Point ``--data-root`` (or ``$GAITCNN_DATA_DIR``) at the
folder that holds ``AutomaticExtractionData_IMUZCenter/`` and/or ``ManualExtractionData/``.
Without a root, 744 subjects are simulated in the same file format.

    python -m data_prep.ouisir.prepare [--data-root DIR] [--cache-dir DIR] [--workers N]
"""

from data_prep._common import run

if __name__ == "__main__":
    run("ouisir", __doc__.splitlines()[0])
