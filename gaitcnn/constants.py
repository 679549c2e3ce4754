"""Project-wide constants, each with the reason for its value."""

#: Uniform sampling rate after resampling (Hz). The paper resamples every data set to 50 Hz.
TARGET_RATE_HZ = 50.0

#: Standard gravity (m/s^2), used to convert accelerations given in g.
STANDARD_GRAVITY = 9.80665

#: Native, fixed sampling rate of the OU-ISIR IMUZ and Android files (Hz); time = row / 100.
OUISIR_RATE_HZ = 100.0

#: Column order of OU-ISIR files: gyroscope (rad/s) first, then accelerometer (g).
OUISIR_COLUMNS = ("Gx", "Gy", "Gz", "Ax", "Ay", "Az")

#: Names of the acceleration axes in :class:`gaitcnn.io.Recording` (m/s^2).
ACC_COLS = ("ax", "ay", "az")

#: Names of the angular-velocity axes in :class:`gaitcnn.io.Recording` (rad/s).
GYR_COLS = ("gx", "gy", "gz")

#: Data sets the command line knows.
DATASET_NAMES = ("ouisir", "mcgill")

#: Simulator variants (:data:`gaitcnn.simulate.VARIANTS`): the calibrated ``"default"``, the
#: noisier ``"hard"``, both with the sensor turned anew every session (``"rotated"``,
#: ``"hard-rotated"``), and the diagnostic ``"untilted"`` (every walker wears the sensor at the
#: same tilt). Here so the CLI can offer them without importing the simulator.
SIMULATION_VARIANTS = ("default", "hard", "rotated", "hard-rotated", "untilted")

#: Environment variable naming the default data root (like gaitmap's GAITMAP_DATA_DIR).
DATA_DIR_ENV = "GAITCNN_DATA_DIR"

#: AE-GDI width in samples (1.28 s at 50 Hz, longer than one gait cycle) [paper].
IMAGE_WIDTH = 64

#: AE-GDI height: the number of time delays m = 1..32 [paper].
IMAGE_HEIGHT = 32
