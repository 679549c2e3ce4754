"""Built-in walking simulator: calibrated synthetic IMU walks written in the real file formats.

The simulator stands in for the licensed OU-ISIR and McGill data sets (RECONSTRUCTION 6). It is a
small physical model, not noise:

* **Gait.** A walk is a sequence of strides. Each stride has its own period (jitter around the
  session's stride frequency, optional linear cadence drift) and its own Fourier coefficients of
  the body's translational acceleration (harmonics 1..24 of the stride frequency, per body axis
  AP/ML/V) and of the segment's rotation angles (roll/pitch/yaw, harmonics 1..4). Coefficients
  are interpolated smoothly between strides, so the waveform varies from cycle to cycle
  (amplitude and shape) without discontinuities. Harmonics 1..10 follow the subject's template;
  harmonics 11..24 are random per stride (heel-strike impacts).
* **Subjects, sessions, days.** A subject draws a stride frequency, an intensity, per-axis level
  ratios and a harmonic template (log-normal amplitude and normal phase deviations from the
  population profile). A session perturbs all of these a little; another day perturbs them more.
* **Sensor.** The specific force ``R_seg(t)^T (a_body + g up) + lever-arm terms`` is rotated into
  the sensor frame by a per-session mounting rotation with a slow small wobble; the gyroscope
  reads the segment's angular velocity in sensor axes. Then per-axis scale error, bias, white
  noise and quantisation.

Presets: ``"waist"`` (OU-ISIR-like centre-back IMU, gravity along the sensor's -y axis) and
``"pocket"`` (McGill-like phone in a trouser pocket on the swinging thigh, gravity in the phone's
x-y plane, new placement every session). Their parameters are calibrated against the targets of
``CALIBRATION.md`` with ``experiments/calibrate_simulator.py``; see ``docs/CALIBRATION_REPORT.md``.

Everything is deterministic from a seed. Random streams are keyed by
``SeedSequence(seed, spawn_key=(dataset, kind, subject, ...))``, so subject ``k``'s data do not
depend on how many subjects are generated.

Results on simulated data must always be labelled "simulated".
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from gaitcnn import __version__
from gaitcnn._atomic import staged_dir
from gaitcnn.constants import OUISIR_RATE_HZ, SIMULATION_VARIANTS, STANDARD_GRAVITY
from gaitcnn.io._formats import (
    mcgill_filename,
    ouisir_automatic_filename,
    ouisir_manual_filename,
    write_mcgill_file,
    write_ouisir_file,
)

__all__ = [
    "PRESETS",
    "VARIANTS",
    "SessionParams",
    "SimulatedWalk",
    "SimulationResult",
    "SimulatorPreset",
    "SubjectParams",
    "apply_rotation",
    "draw_session",
    "draw_subject",
    "harder",
    "load_truth",
    "random_rotation",
    "session_rotation",
    "simulate_mcgill",
    "simulate_ouisir",
    "simulate_session",
    "simulate_walk",
    "untilted",
]

#: Version of the simulator model; bump when the generated numbers change.
SIMULATOR_VERSION = "1.0"

#: Name of the ground-truth file written beside every simulated data set.
TRUTH_FILENAME = "simulation_truth.json"

#: Name of the provenance file saying the data are simulated.
INFO_FILENAME = "simulation.json"

#: Empty file marking a finished simulation. A data set is written under a temporary name
#: (``<out_dir>.partial-<pid>``) and renamed into place when complete, so a folder with this
#: name and marker is always a whole data set.
COMPLETE_MARKER = ".complete"

#: Number of acceleration harmonics synthesised (1..10 template, 11..24 random impacts).
N_ACC_HARMONICS = 24

#: Number of template harmonics (the ones the calibration estimator fits).
N_TEMPLATE_HARMONICS = 10

#: Number of harmonics of the segment rotation angles.
N_ANGLE_HARMONICS = 4

# Spawn-key codes keep the random streams of different purposes apart.
_KEY_WALK, _KEY_OUISIR, _KEY_MCGILL, _KEY_CALIB = 0, 1, 2, 3
_KIND_SUBJECT, _KIND_SESSION, _KIND_SIGNAL, _KIND_META, _KIND_SENSOR = 0, 1, 2, 3, 4
_KIND_ROTATION = 5  # the extra sensor rotation of the rotated variants (own stream)


def _rng(seed: int, *key: int) -> np.random.Generator:
    """Independent generator for one purpose, keyed so it never depends on loop sizes."""
    ss = np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))
    return np.random.Generator(np.random.PCG64(ss))


# ----------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class SimulatorPreset:
    """Population parameters of one sensor placement (all calibrated, see module docstring).

    Amplitude profiles are relative Fourier amplitudes of harmonics 1..10 of the stride frequency
    for the body axes (AP, ML, V); they are normalised to unit sd and scaled by ``axis_sd_m_s2``.
    """

    name: str
    stride_freq_mean_hz: float  # population mean stride frequency (strides/s)
    stride_freq_sd_hz: float  # between-subject sd of the stride frequency
    session_freq_sd: float  # relative sd of a session's stride-frequency change
    session_freq_outlier_prob: float  # share of sessions with a large cadence change
    session_freq_outlier_sd: float  # relative sd of those large changes
    day_freq_sd: float  # extra relative stride-frequency change on another day
    jitter_median: float  # median stride-period CV within a walk
    jitter_log_sd: float  # between-subject log-sd of that CV
    profile_ap: tuple[float, ...]  # relative harmonic amplitudes, antero-posterior axis
    profile_ml: tuple[float, ...]  # ... medio-lateral axis
    profile_v: tuple[float, ...]  # ... vertical axis
    axis_sd_m_s2: tuple[float, float, float]  # periodic sd of (AP, ML, V) for a median subject
    intensity_log_sd: float  # between-subject log-sd of the overall acceleration level
    axis_ratio_log_sd: float  # between-subject log-sd of the AP/V and ML/V level ratios
    subject_amp_log_sd: float  # between-subject log-sd of each harmonic amplitude
    subject_phase_sd_rad: float  # between-subject sd of each harmonic phase
    session_amp_log_sd: float  # session-to-session log-sd of each harmonic amplitude
    session_phase_sd_rad: float  # session-to-session sd of each harmonic phase
    session_level_log_sd: float  # session-to-session log-sd of the acceleration level
    day_factor: float  # day-to-day changes = day_factor x session-to-session changes
    stride_shape_sd: float  # cycle-to-cycle relative (complex) sd of each harmonic coefficient
    stride_amp_sd: float  # cycle-to-cycle relative sd of the whole stride's amplitude
    impact_rel: float  # amplitude of each impact harmonic 11..24, relative to the axis sd
    impact_log_sd: float  # between-subject log-sd of the impact level
    shape_log_sd: float  # between-subject log-sd of the cycle-to-cycle variability
    axis_shared: float  # share of a subject's harmonic deviations common to the three axes
    gyro_intensity_exponent: float  # rotation amplitude ~ intensity ** this (vigorous walkers)
    aligned_phases: bool  # V harmonics peak together at heel strikes, AP brakes at them
    angle_amp_rad: tuple[tuple[float, ...], ...]  # (roll, pitch, yaw) x harmonics 1..4
    gyro_log_sd: float  # between-subject log-sd of the rotation amplitudes
    lever_arm_m: tuple[float, float, float]  # sensor position from the rotation centre (AP,ML,V)
    mount: str  # "waist" or "pocket": how the sensor is attached
    tilt_subject_deg: tuple[float, float, float]  # sd of the subject's mounting tilt (x, y, z)
    tilt_session_deg: float  # sd of the session's extra tilt per axis
    tilt_mean_deg: tuple[float, float, float]  # population-mean tilt (rotation vector, deg)
    wobble_deg: float  # amplitude of the slow sensor wobble during a walk
    acc_scale_mean: float  # mean accelerometer scale factor (1 = perfect)
    acc_scale_sd: float  # per-sensor, per-axis sd of the scale factor
    acc_bias_sd_m_s2: float  # per-session, per-axis accelerometer bias sd
    acc_noise_sd_m_s2: float  # white accelerometer noise per sample
    acc_quantum_m_s2: float  # accelerometer resolution (0 = none)
    gyr_bias_sd_rad_s: float  # per-session gyroscope bias sd
    gyr_noise_sd_rad_s: float  # white gyroscope noise per sample
    messy_bump_prob: float  # share of sessions with handling bumps (pocket)
    messy_irregular_prob: float  # share of sessions with irregular walking (pocket)


# Population profiles start from the CALIBRATION.md targets (V ~ |a| profile, H1 ~ AP,
# H2 ~ ML) and were corrected for what rotation, lever arm and variability add.
_WAIST = SimulatorPreset(
    name="waist",
    stride_freq_mean_hz=1.006,  # CALIBRATION 1: 1.01 Hz
    stride_freq_sd_hz=0.074,  # + estimator noise -> 0.08 Hz
    session_freq_sd=0.022,  # median |df|/f 2.3 %
    session_freq_outlier_prob=0.10,  # heavy tail: ICC(1) 0.69
    session_freq_outlier_sd=0.12,
    day_freq_sd=0.03,
    jitter_median=0.015,  # estimator reads CV 2.8 % median (waveform variability adds)
    jitter_log_sd=0.45,
    profile_ap=(0.14, 0.73, 0.20, 0.48, 0.24, 0.31, 0.15, 0.20, 0.11, 0.13),
    profile_ml=(0.08, 0.40, 0.39, 0.26, 0.43, 0.22, 0.25, 0.17, 0.20, 0.12),
    profile_v=(0.04, 1.10, 0.10, 0.16, 0.07, 0.24, 0.08, 0.23, 0.08, 0.23),
    axis_sd_m_s2=(1.85, 1.65, 2.6),
    intensity_log_sd=0.26,  # sd |a| p5-p95 2.0-4.8 m/s^2
    axis_ratio_log_sd=0.15,
    subject_amp_log_sd=0.30,
    subject_phase_sd_rad=0.6,
    session_amp_log_sd=0.13,
    session_phase_sd_rad=0.15,
    session_level_log_sd=0.07,
    day_factor=1.8,
    stride_shape_sd=0.55,
    stride_amp_sd=0.05,
    impact_rel=0.13,
    impact_log_sd=0.35,
    shape_log_sd=0.4,
    axis_shared=0.9,
    gyro_intensity_exponent=0.0,
    aligned_phases=True,
    # pelvis: yaw at the stride frequency, pitch at the step frequency, roll mixed
    angle_amp_rad=(
        (0.05, 0.03, 0.006, 0.004),
        (0.01, 0.033, 0.004, 0.003),
        (0.12, 0.01, 0.01, 0.0),
    ),
    gyro_log_sd=0.30,
    lever_arm_m=(-0.10, 0.0, 0.0),  # IMU on the back, 10 cm behind the pelvis centre
    mount="waist",
    tilt_subject_deg=(6.2, 4.0, 3.0),  # gravity direction 5.9 deg from the mean (median)
    tilt_session_deg=1.1,  # 1.8 deg between a subject's two walks
    tilt_mean_deg=(-3.9, 0.0, 0.9),  # population mean ~4 deg from the -y axis
    wobble_deg=0.5,
    acc_scale_mean=1.0115,  # |mean acc vector| 9.92 m/s^2 median
    acc_scale_sd=0.016,  # p5-p95 9.71-10.23
    acc_bias_sd_m_s2=0.03,
    acc_noise_sd_m_s2=0.03,
    acc_quantum_m_s2=0.002 * STANDARD_GRAVITY,  # 0.002 g resolution of the IMUZ
    gyr_bias_sd_rad_s=0.005,
    gyr_noise_sd_rad_s=0.018,  # gyro white noise floor at 100 Hz
    messy_bump_prob=0.0,
    messy_irregular_prob=0.0,
)

_POCKET = SimulatorPreset(
    name="pocket",
    stride_freq_mean_hz=0.924,  # CALIBRATION 1: 0.92 Hz
    stride_freq_sd_hz=0.085,
    session_freq_sd=0.02,
    session_freq_outlier_prob=0.04,
    session_freq_outlier_sd=0.06,
    day_freq_sd=0.03,
    jitter_median=0.035,
    jitter_log_sd=0.45,
    profile_ap=(0.30, 0.72, 0.41, 0.52, 0.28, 0.15, 0.17, 0.16, 0.13, 0.11),
    profile_ml=(0.58, 0.26, 0.37, 0.33, 0.48, 0.29, 0.30, 0.22, 0.19, 0.18),
    profile_v=(0.05, 0.90, 0.80, 0.22, 0.15, 0.28, 0.18, 0.40, 0.30, 0.40),
    axis_sd_m_s2=(2.4, 1.7, 3.0),
    intensity_log_sd=0.40,
    axis_ratio_log_sd=0.15,
    subject_amp_log_sd=0.22,  # between-subject profile sd is small in the pocket set
    subject_phase_sd_rad=0.6,
    session_amp_log_sd=0.10,
    session_phase_sd_rad=0.15,
    session_level_log_sd=0.10,
    day_factor=1.8,
    stride_shape_sd=0.20,
    stride_amp_sd=0.05,
    impact_rel=0.03,
    impact_log_sd=0.35,
    shape_log_sd=0.3,
    axis_shared=0.75,
    gyro_intensity_exponent=0.7,
    aligned_phases=False,
    # thigh: large sagittal swing (pitch about ML) at the stride frequency
    angle_amp_rad=((0.04, 0.02, 0.005, 0.0), (0.35, 0.08, 0.04, 0.01), (0.08, 0.02, 0.01, 0.0)),
    gyro_log_sd=0.20,
    lever_arm_m=(0.06, 0.08, -0.15),  # front pocket, ~15 cm below the hip joint
    mount="pocket",
    tilt_subject_deg=(0.0, 0.0, 0.0),
    tilt_session_deg=5.0,  # out-of-plane tilt: |g_z| < 0.18 in 95 % of sessions
    tilt_mean_deg=(0.0, 0.0, 0.0),
    wobble_deg=3.0,
    acc_scale_mean=1.0,
    acc_scale_sd=0.015,
    acc_bias_sd_m_s2=0.05,
    acc_noise_sd_m_s2=0.05,
    acc_quantum_m_s2=0.0136,  # value grid of the phone's accelerometer
    gyr_bias_sd_rad_s=0.01,
    gyr_noise_sd_rad_s=0.02,
    messy_bump_prob=0.04,  # sd |a| > 7 m/s^2 in ~4 % of sessions
    messy_irregular_prob=0.07,  # stride regularity < 0.4 in ~11 % of sessions
)

#: Data-set variants: ``"default"`` (calibrated), ``"hard"`` (:func:`harder`), both with
#: the sensor turned anew every session (:func:`session_rotation`): ``"rotated"``,
#: ``"hard-rotated"`` (uncalibrated, like ``"hard"``: no real statistic was matched), and the
#: diagnostic ``"untilted"`` (:func:`untilted`).
VARIANTS = SIMULATION_VARIANTS


def harder(preset: SimulatorPreset) -> SimulatorPreset:
    """A harder, uncalibrated version of a preset, to test conclusions for robustness.

    Not calibrated against any real statistic: it stands for recordings taken further apart
    than the lab sessions the calibrated presets match - other shoes and clothes, another
    occasion, a cheaper sensor. Relative to ``preset``:

    * session-to-session changes of the gait (harmonic amplitudes, phases, acceleration level,
      stride frequency) and of the sensor placement (tilt, wobble) are doubled;
    * day-to-day changes are a further 1.5x the (doubled) session changes;
    * cycle-to-cycle shape variability is 1.3x;
    * white sensor noise is 5x (accelerometer) and 3x (gyroscope), and biases 3x.

    Parameters
    ----------
    preset : SimulatorPreset
        A calibrated preset.

    Returns
    -------
    SimulatorPreset
        Named ``"<name>-hard"``.

    Examples
    --------
    >>> hard = harder(PRESETS["waist"])
    >>> hard.name, round(hard.acc_noise_sd_m_s2 / PRESETS["waist"].acc_noise_sd_m_s2, 3)
    ('waist-hard', 5.0)
    """
    return dataclasses.replace(
        preset,
        name=f"{preset.name}-hard",
        session_freq_sd=2.0 * preset.session_freq_sd,
        day_freq_sd=2.0 * preset.day_freq_sd,
        session_amp_log_sd=2.0 * preset.session_amp_log_sd,
        session_phase_sd_rad=2.0 * preset.session_phase_sd_rad,
        session_level_log_sd=2.0 * preset.session_level_log_sd,
        day_factor=1.5 * preset.day_factor,
        stride_shape_sd=1.3 * preset.stride_shape_sd,
        tilt_session_deg=2.0 * preset.tilt_session_deg,
        wobble_deg=2.0 * preset.wobble_deg,
        acc_noise_sd_m_s2=5.0 * preset.acc_noise_sd_m_s2,
        acc_bias_sd_m_s2=3.0 * preset.acc_bias_sd_m_s2,
        gyr_noise_sd_rad_s=3.0 * preset.gyr_noise_sd_rad_s,
        gyr_bias_sd_rad_s=3.0 * preset.gyr_bias_sd_rad_s,
    )


def untilted(preset: SimulatorPreset) -> SimulatorPreset:
    """A diagnostic version of a preset: every subject wears the sensor at the same tilt.

    Only the subject's own mounting tilt goes (``tilt_subject_deg`` = 0: every subject gets
    the population-mean tilt). The session's extra tilt and wobble stay, and so does every
    random draw, so subject ``k`` walks the same way in both. A model that loses accuracy here
    against ``preset`` was reading how each walker wears the sensor as part of who they are:
    a cue that a sensor put on anew, or a phone turned in a pocket, does not keep.

    Parameters
    ----------
    preset : SimulatorPreset
        A preset.

    Returns
    -------
    SimulatorPreset
        Named ``"<name>-untilted"``.

    Examples
    --------
    >>> untilted(PRESETS["waist"]).tilt_subject_deg
    (0.0, 0.0, 0.0)
    """
    return dataclasses.replace(
        preset, name=f"{preset.name}-untilted", tilt_subject_deg=(0.0, 0.0, 0.0)
    )


#: The simulator presets by name (the derived variants come last, so the first codes are stable).
PRESETS: dict[str, SimulatorPreset] = {"waist": _WAIST, "pocket": _POCKET}
PRESETS.update({f"{name}-hard": harder(p) for name, p in list(PRESETS.items())})
PRESETS.update({f"{name}-untilted": untilted(PRESETS[name]) for name in ("waist", "pocket")})


def _variant_parts(base: str, variant: str) -> tuple[str, bool]:
    """Preset name of a variant and whether its sessions get a random sensor rotation."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, received: {variant!r}")
    if variant == "untilted":
        return f"{base}-untilted", False
    rotated = variant.endswith("rotated")
    hard = variant.startswith("hard")
    return (f"{base}-hard" if hard else base), rotated


#: Pocket placements: in-plane angle of gravity in the phone's x-y plane (deg) and probability.
#: 0 = +y (phone upright), 180 = -y (upside down), +-90 = +-x (sideways); 71 % +-y, 29 % +-x.
_POCKET_PLACEMENTS_DEG = np.array([0.0, 180.0, 90.0, -90.0])
_POCKET_PLACEMENT_PROB = np.array([0.50, 0.21, 0.145, 0.145])
_POCKET_KEEP_HABIT_PROB = 0.52  # a session keeps the subject's usual placement
_POCKET_INPLANE_SD_DEG = 22.0  # in-plane scatter around a placement


def _get_preset(preset: str | SimulatorPreset) -> SimulatorPreset:
    if isinstance(preset, SimulatorPreset):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}") from None


def _unit_profile(profile: tuple[float, ...]) -> np.ndarray:
    p = np.asarray(profile, float)
    return p / math.sqrt(float(np.sum(p**2)) / 2.0)


# Fixed population-mean phases (rad) of the template harmonics per body axis (AP, ML, V):
# drawn once from a fixed stream, so that all subjects share a recognisable gait waveform.
_POP_PHASES = _rng(20170101, 99).uniform(-np.pi, np.pi, size=(3, N_TEMPLATE_HARMONICS))
# Aligned (waist): V harmonics in phase -> sharp positive peaks at the heel strikes (positive
# skew, as in real walks); AP in opposite phase (braking at heel strike); ML stays random.
_POP_PHASES_ALIGNED = _POP_PHASES.copy()
_POP_PHASES_ALIGNED[2] = 0.3 * _rng(20170101, 97).standard_normal(N_TEMPLATE_HARMONICS)
_POP_PHASES_ALIGNED[0] = np.pi + 0.3 * _rng(20170101, 96).standard_normal(N_TEMPLATE_HARMONICS)
_POP_ANGLE_PHASES = _rng(20170101, 98).uniform(-np.pi, np.pi, size=(3, N_ANGLE_HARMONICS))


# ----------------------------------------------------------------------------- rotations
def random_rotation(rng: np.random.Generator, *, max_angle_deg: float | None = None) -> np.ndarray:
    """Draw a rotation matrix: uniform on SO(3), or about a uniform axis up to an angle.

    Parameters
    ----------
    rng : np.random.Generator
        Random source.
    max_angle_deg : float, optional
        If given, the rotation angle is uniform in ``[0, max_angle_deg]`` degrees.

    Returns
    -------
    np.ndarray, shape (3, 3)
        Proper rotation matrix (orthonormal, determinant +1).
    """
    if max_angle_deg is None:
        return Rotation.random(random_state=rng).as_matrix()
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = math.radians(rng.uniform(0.0, max_angle_deg))
    return Rotation.from_rotvec(axis * angle).as_matrix()


def apply_rotation(rotation: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Express vectors in rotated sensor axes: ``out[i] = rotation @ vectors[i]``.

    Parameters
    ----------
    rotation : np.ndarray, shape (3, 3) or (n, 3, 3)
        Rotation matrix (or one per sample).
    vectors : np.ndarray, shape (n, 3)
        Vectors, e.g. accelerations in m/s^2 or angular velocities in rad/s.

    Returns
    -------
    np.ndarray, shape (n, 3)
        Rotated vectors; their norms are unchanged.
    """
    rotation = np.asarray(rotation, float)
    vectors = np.asarray(vectors, float)
    if rotation.ndim == 2:
        return vectors @ rotation.T
    return np.einsum("nij,nj->ni", rotation, vectors)


def _rotvec_deg(x: float, y: float, z: float) -> np.ndarray:
    return Rotation.from_rotvec(np.radians([x, y, z])).as_matrix()


def session_rotation(seed: int, dataset_key: int, *key: int) -> np.ndarray:
    """The extra sensor rotation of one session in the rotated variants, uniform on SO(3).

    Parameters
    ----------
    seed : int
        Data-set seed.
    dataset_key : int
        Data-set code of the random streams (OU-ISIR or McGill).
    *key : int
        Subject index, session index and device code.

    Returns
    -------
    np.ndarray, shape (3, 3)
        Proper rotation matrix.

    Notes
    -----
    Uncalibrated: it stands for a device put back anew between walks (a phone dropped into a
    pocket or bag any way round), the worst case for channels that read the sensor axes. The
    rotation is rigid and turns the whole IMU: it pre-multiplies the body -> sensor mounting
    matrix, so the accelerometer (gravity included) and the gyroscope turn together, while
    sensor-frame errors (scale, bias, noise, quantisation) stay in the sensor frame. It is
    constant within a session; every session (OU-ISIR: every walk; McGill: every day) and
    device draws its own from a separate stream, so the other random streams - and with them
    the default variant - are unchanged.

    Examples
    --------
    >>> r = session_rotation(0, 1, 7, 0, 0)
    >>> bool(np.allclose(r @ r.T, np.eye(3))), round(float(np.linalg.det(r)), 6)
    (True, 1.0)
    """
    return random_rotation(_rng(seed, dataset_key, _KIND_ROTATION, *key))


# Body axes are (AP forward, ML left, V up). Mounting matrices map body -> sensor coordinates.
# Waist: IMU on the back, sensor x = left, y = down, z = backward (gravity reads along -y).
_WAIST_MOUNT = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])


def _pocket_mount(inplane_deg: float, face: int) -> np.ndarray:
    """Phone flat on the thigh: z = +-AP, gravity at ``inplane_deg`` in the x-y plane."""
    psi = math.radians(inplane_deg)
    s = float(face)
    # columns: readings of the body axes AP, ML, V in phone coordinates
    return np.array(
        [
            [0.0, s * math.cos(psi), math.sin(psi)],
            [0.0, -s * math.sin(psi), math.cos(psi)],
            [s, 0.0, 0.0],
        ]
    )


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True, eq=False)
class SubjectParams:
    """Parameters of one simulated subject (drawn by :func:`draw_subject`).

    Attributes
    ----------
    preset : str
        Preset name.
    stride_freq_hz : float
        Habitual stride frequency (strides per second; cadence = 120 x this in steps/min).
    jitter_cv : float
        Stride-period coefficient of variation within a walk.
    acc_coef : np.ndarray, shape (3, 10), complex
        Fourier coefficients (m/s^2) of harmonics 1..10 of the body acceleration (AP, ML, V).
    angle_coef : np.ndarray, shape (3, 4), complex
        Fourier coefficients (rad) of the segment's roll, pitch, yaw.
    mount_tilt : np.ndarray, shape (3, 3)
        Subject's habitual mounting tilt (waist) as a rotation matrix in sensor axes.
    placement : int
        Habitual pocket placement index (pocket preset).
    face : int
        Habitual side of the phone facing out (+1/-1, pocket preset).
    acc_scale : np.ndarray, shape (3,)
        Per-axis accelerometer scale factor of the subject's sensor.
    sex : int
        0 female, 1 male (as in ``IDGenderAgelist.csv``).
    age : int
        Age in years.
    impact_rel : float
        Level of the impact harmonics 11..24, relative to the axis sd.
    stride_shape_sd : float
        Cycle-to-cycle relative variability of the harmonic coefficients.
    """

    preset: str
    stride_freq_hz: float
    jitter_cv: float
    acc_coef: np.ndarray
    angle_coef: np.ndarray
    mount_tilt: np.ndarray
    placement: int
    face: int
    acc_scale: np.ndarray
    sex: int
    age: int
    impact_rel: float
    stride_shape_sd: float

    def summary(self) -> dict:
        """JSON-friendly summary (scalars only)."""
        return {
            "preset": self.preset,
            "stride_freq_hz": round(self.stride_freq_hz, 6),
            "jitter_cv": round(self.jitter_cv, 6),
            "sex": self.sex,
            "age": self.age,
            "acc_level_m_s2": round(float(np.sqrt(np.sum(np.abs(self.acc_coef) ** 2) / 2)), 4),
        }


@dataclass(frozen=True, eq=False)
class SessionParams:
    """Parameters of one session (one placement of the sensor), drawn by :func:`draw_session`.

    Attributes
    ----------
    subject : SubjectParams
        The subject.
    stride_freq_hz : float
        Stride frequency of this session.
    jitter_cv : float
        Stride-period CV of this session.
    acc_coef : np.ndarray, shape (3, 10), complex
        Session's acceleration template (m/s^2).
    angle_coef : np.ndarray, shape (3, 4), complex
        Session's rotation template (rad).
    mount : np.ndarray, shape (3, 3)
        Body -> sensor rotation of this session.
    acc_bias_m_s2 : np.ndarray, shape (3,)
        Accelerometer bias.
    gyr_bias_rad_s : np.ndarray, shape (3,)
        Gyroscope bias.
    irregular : bool
        Irregular walking (larger cycle-to-cycle variability).
    bumps : bool
        Handling bumps (large transients).
    seed_key : tuple of int
        Key of the signal stream.
    """

    subject: SubjectParams
    stride_freq_hz: float
    jitter_cv: float
    acc_coef: np.ndarray
    angle_coef: np.ndarray
    mount: np.ndarray
    acc_bias_m_s2: np.ndarray
    gyr_bias_rad_s: np.ndarray
    irregular: bool
    bumps: bool
    seed_key: tuple[int, ...] = field(default=())


def draw_subject(preset: str | SimulatorPreset, rng: np.random.Generator) -> SubjectParams:
    """Draw one subject from a preset's population.

    Parameters
    ----------
    preset : str or SimulatorPreset
        ``"waist"`` or ``"pocket"`` (or a custom preset).
    rng : np.random.Generator
        Random source (use one stream per subject).

    Returns
    -------
    SubjectParams
    """
    p = _get_preset(preset)
    sex = int(rng.integers(0, 2))
    age = int(np.clip(rng.gamma(4.0, 7.0) + 5, 5, 90))
    # women walk with a slightly higher cadence (shorter legs); the sd includes it
    f = p.stride_freq_mean_hz + (0.015 if sex == 0 else -0.015)
    f += rng.normal(0.0, math.sqrt(max(p.stride_freq_sd_hz**2 - 0.015**2, 1e-6)))
    f = float(np.clip(f, 0.65, 1.45))
    jitter = float(p.jitter_median * math.exp(rng.normal(0.0, p.jitter_log_sd)))

    def clipped_normal(size=None):  # no absurd subjects from the far tails
        return np.clip(rng.normal(0.0, 1.0, size=size), -2.3, 2.3)

    intensity = math.exp(p.intensity_log_sd * float(clipped_normal()))
    ratio = np.exp(p.axis_ratio_log_sd * clipped_normal(3))
    ratio[2] = 1.0
    profiles = np.stack(
        [_unit_profile(p.profile_ap), _unit_profile(p.profile_ml), _unit_profile(p.profile_v)]
    )
    # a subject's harmonic deviations are largely shared by the three axes (one gait style)
    dev = math.sqrt(p.axis_shared) * rng.normal(size=(1, N_TEMPLATE_HARMONICS))
    dev = dev + math.sqrt(1.0 - p.axis_shared) * rng.normal(size=profiles.shape)
    amp = profiles * np.exp(p.subject_amp_log_sd * dev)
    # keep each axis' level: the shape varies, the level is set by intensity and ratios
    amp /= np.sqrt(np.sum(amp**2, axis=1, keepdims=True) / 2.0)
    amp *= (np.asarray(p.axis_sd_m_s2) * ratio * intensity)[:, None]
    phase = (_POP_PHASES_ALIGNED if p.aligned_phases else _POP_PHASES) + rng.normal(
        0.0, p.subject_phase_sd_rad, size=amp.shape
    )
    acc_coef = amp * np.exp(1j * phase)
    gscale = (
        math.exp(p.gyro_log_sd * float(clipped_normal())) * intensity**p.gyro_intensity_exponent
    )
    ang_amp = (
        np.asarray(p.angle_amp_rad)
        * gscale
        * np.exp(rng.normal(0.0, 0.2, size=(3, N_ANGLE_HARMONICS)))
    )
    ang_phase = _POP_ANGLE_PHASES + rng.normal(0.0, 0.4, size=ang_amp.shape)
    angle_coef = ang_amp * np.exp(1j * ang_phase)
    tilt = np.asarray(p.tilt_mean_deg) + rng.normal(0.0, 1.0, size=3) * np.asarray(
        p.tilt_subject_deg
    )
    placement = int(rng.choice(len(_POCKET_PLACEMENTS_DEG), p=_POCKET_PLACEMENT_PROB))
    face = 1 if rng.random() < 0.7 else -1
    acc_scale = p.acc_scale_mean + rng.normal(0.0, p.acc_scale_sd, size=3)
    impact = p.impact_rel * math.exp(p.impact_log_sd * float(clipped_normal()))
    shape_sd = p.stride_shape_sd * math.exp(p.shape_log_sd * float(clipped_normal()))
    return SubjectParams(
        preset=p.name,
        stride_freq_hz=f,
        jitter_cv=jitter,
        acc_coef=acc_coef,
        angle_coef=angle_coef,
        mount_tilt=_rotvec_deg(*tilt),
        placement=placement,
        face=face,
        acc_scale=acc_scale,
        sex=sex,
        age=age,
        impact_rel=impact,
        stride_shape_sd=shape_sd,
    )


def _perturb(
    coef: np.ndarray, rng: np.random.Generator, amp_sd: float, phase_sd: float
) -> np.ndarray:
    return coef * np.exp(
        rng.normal(0.0, amp_sd, size=coef.shape) + 1j * rng.normal(0.0, phase_sd, size=coef.shape)
    )


def draw_session(
    subject: SubjectParams,
    rng: np.random.Generator,
    *,
    day_state: tuple | None = None,
    new_placement: bool = True,
) -> SessionParams:
    """Draw one session of a subject: cadence, shape and level changes, sensor placement.

    Parameters
    ----------
    subject : SubjectParams
        The subject.
    rng : np.random.Generator
        Random source (one stream per session).
    day_state : tuple, optional
        ``(stride_freq_hz, acc_coef, angle_coef)`` of the subject on this day, from
        :func:`_draw_day`; ``None`` uses the subject's habitual values.
    new_placement : bool, default=True
        Draw a new sensor placement (always true in practice; kept for clarity).

    Returns
    -------
    SessionParams
    """
    p = _get_preset(subject.preset)
    f0, acc0, ang0 = (
        day_state
        if day_state is not None
        else (subject.stride_freq_hz, subject.acc_coef, subject.angle_coef)
    )
    sd = (
        p.session_freq_outlier_sd
        if rng.random() < p.session_freq_outlier_prob
        else p.session_freq_sd
    )
    f = float(np.clip(f0 * math.exp(rng.normal(0.0, sd)), 0.6, 1.6))
    level = math.exp(rng.normal(0.0, p.session_level_log_sd))
    acc = _perturb(acc0, rng, p.session_amp_log_sd, p.session_phase_sd_rad) * level
    ang = _perturb(ang0, rng, p.session_amp_log_sd, p.session_phase_sd_rad)
    jitter = float(subject.jitter_cv * math.exp(rng.normal(0.0, 0.25)))
    irregular = bool(rng.random() < p.messy_irregular_prob)
    bumps = bool(rng.random() < p.messy_bump_prob)
    if p.mount == "waist":
        tilt = _rotvec_deg(*rng.normal(0.0, p.tilt_session_deg, size=3))
        mount = tilt @ subject.mount_tilt @ _WAIST_MOUNT
    else:
        idx = subject.placement
        if rng.random() >= _POCKET_KEEP_HABIT_PROB:
            idx = int(rng.choice(len(_POCKET_PLACEMENTS_DEG), p=_POCKET_PLACEMENT_PROB))
        face = subject.face if rng.random() < 0.8 else -subject.face
        inplane = _POCKET_PLACEMENTS_DEG[idx] + rng.normal(0.0, _POCKET_INPLANE_SD_DEG)
        tilt = _rotvec_deg(*rng.normal(0.0, p.tilt_session_deg, size=2), 0.0)
        mount = tilt @ _pocket_mount(inplane, face)
    return SessionParams(
        subject=subject,
        stride_freq_hz=f,
        jitter_cv=jitter * (3.0 if irregular else 1.0),
        acc_coef=acc,
        angle_coef=ang,
        mount=mount,
        acc_bias_m_s2=rng.normal(0.0, p.acc_bias_sd_m_s2, size=3),
        gyr_bias_rad_s=rng.normal(0.0, p.gyr_bias_sd_rad_s, size=3),
        irregular=irregular,
        bumps=bumps,
    )


def _draw_day(subject: SubjectParams, rng: np.random.Generator) -> tuple:
    """Subject's state on one day: cadence and shape changed a little (shoes, clothes, payload)."""
    p = _get_preset(subject.preset)
    f = subject.stride_freq_hz * math.exp(rng.normal(0.0, p.day_freq_sd))
    acc = _perturb(
        subject.acc_coef,
        rng,
        p.day_factor * p.session_amp_log_sd,
        p.day_factor * p.session_phase_sd_rad,
    )
    acc = acc * math.exp(rng.normal(0.0, p.day_factor * p.session_level_log_sd))
    ang = _perturb(
        subject.angle_coef,
        rng,
        p.day_factor * p.session_amp_log_sd,
        p.day_factor * p.session_phase_sd_rad,
    )
    return float(f), acc, ang


# ----------------------------------------------------------------------------- synthesis
def _stride_nodes(
    f_hz: float,
    jitter_cv: float,
    t_end_s: float,
    rng: np.random.Generator,
    cadence_drift: float,
    wander: bool,
) -> np.ndarray:
    """Times (s) of stride boundaries covering [0, t_end_s]; the first one is <= 0."""
    t0 = -rng.uniform(0.0, 1.0) / f_hz
    n = math.ceil(t_end_s * f_hz * 1.5 / max(1.0 + min(cadence_drift, 0.0), 0.3)) + 4
    k = np.arange(n)
    t_approx = t0 + k / f_hz
    rel = 1.0 + cadence_drift * np.clip(t_approx / max(t_end_s, 1e-9), 0.0, 1.0)
    if wander:  # slow cadence wandering over long recordings (random walk, ~2 % over minutes)
        rel = rel * np.exp(np.cumsum(rng.normal(0.0, 0.0015, size=n)))
    periods = (1.0 / (f_hz * rel)) * (1.0 + jitter_cv * rng.standard_normal(n))
    periods = np.clip(periods, 0.4 / f_hz, 2.0 / f_hz)
    nodes = t0 + np.concatenate([[0.0], np.cumsum(periods)])
    keep = np.searchsorted(nodes, t_end_s) + 2
    return nodes[: min(keep, len(nodes))]


def _smooth_weights(frac: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * frac)  # C1-continuous blend between stride nodes


def _synthesize_motion(
    session: SessionParams, t_s: np.ndarray, rng: np.random.Generator, cadence_drift: float = 0.0
) -> dict:
    """Body motion at times ``t_s``: translational acceleration, rotation angles and rates."""
    p = _get_preset(session.subject.preset)
    t_s = np.asarray(t_s, float)
    t_end = float(t_s.max()) + 1e-6 if len(t_s) else 1.0
    nodes = _stride_nodes(
        session.stride_freq_hz, session.jitter_cv, t_end, rng, cadence_drift, wander=t_end > 60
    )
    n_nodes = len(nodes)
    periods = np.diff(nodes)
    phase = np.interp(t_s, nodes, np.arange(n_nodes, dtype=float))
    k = np.clip(np.floor(phase).astype(int), 0, n_nodes - 2)
    w = _smooth_weights(phase - k)[:, None, None]
    rate = 1.0 / periods[k]  # instantaneous stride frequency (Hz)

    shape_sd = session.subject.stride_shape_sd * (1.8 if session.irregular else 1.0)
    n_s = n_nodes
    # template harmonics 1..10, varying from stride to stride
    gain = 1.0 + p.stride_amp_sd * rng.standard_normal((n_s, 1, 1))
    var = (
        rng.standard_normal((n_s, 3, N_TEMPLATE_HARMONICS))
        + 1j * rng.standard_normal((n_s, 3, N_TEMPLATE_HARMONICS))
    ) / math.sqrt(2)
    c_tmpl = session.acc_coef[None] * gain * (1.0 + shape_sd * var)
    # impact harmonics 11..24: random every stride, level tied to the session's axis levels
    axis_sd = np.sqrt(np.sum(np.abs(session.acc_coef) ** 2, axis=1) / 2.0)
    n_imp = N_ACC_HARMONICS - N_TEMPLATE_HARMONICS
    decay = np.exp(-np.arange(n_imp) / 20.0)
    c_imp = (
        rng.standard_normal((n_s, 3, n_imp)) + 1j * rng.standard_normal((n_s, 3, n_imp))
    ) / math.sqrt(2)
    c_imp *= (session.subject.impact_rel * axis_sd)[None, :, None] * decay[None, None, :]
    c_all = np.concatenate([c_tmpl, c_imp], axis=2)  # (n_s, 3, 24)
    c_t = (1.0 - w) * c_all[k] + w * c_all[k + 1]
    h = np.arange(1, N_ACC_HARMONICS + 1)
    e = np.exp(2j * np.pi * phase[:, None] * h[None, :])  # (n, 24)
    acc_body = np.real(np.einsum("nah,nh->na", c_t, e))

    # segment rotation (roll, pitch, yaw), harmonics 1..4, milder stride-to-stride variation
    ha = np.arange(1, N_ANGLE_HARMONICS + 1)
    var_a = (
        rng.standard_normal((n_s, 3, N_ANGLE_HARMONICS))
        + 1j * rng.standard_normal((n_s, 3, N_ANGLE_HARMONICS))
    ) / math.sqrt(2)
    a_all = session.angle_coef[None] * (1.0 + 0.5 * shape_sd * var_a)
    a_t = (1.0 - w) * a_all[k] + w * a_all[k + 1]
    ea = e[:, :N_ANGLE_HARMONICS]
    dphi = (2j * np.pi * ha[None, :]) * rate[:, None]  # d/dt of the harmonic phase
    angles = np.real(np.einsum("nah,nh->na", a_t, ea))
    omega = np.real(np.einsum("nah,nh->na", a_t, ea * dphi))
    omega_dot = np.real(np.einsum("nah,nh->na", a_t, ea * dphi**2))
    starts = nodes[(nodes >= float(t_s.min()) - 1e-9) & (nodes <= t_end)] if len(t_s) else nodes[:0]
    return {
        "acc_body": acc_body,
        "angles": angles,
        "omega": omega,
        "omega_dot": omega_dot,
        "cycle_starts_s": starts,
        "stride_period_s": float(np.mean(periods)),
        "periods": periods,
    }


def _wobble(t_s: np.ndarray, amp_deg: float, rng: np.random.Generator) -> np.ndarray:
    """Slow small sensor wobble: rotation vectors (n, 3) from a few slow sinusoids."""
    freqs = rng.uniform(0.02, 0.2, size=(3, 3))
    phases = rng.uniform(0, 2 * np.pi, size=(3, 3))
    amps = np.radians(amp_deg) / math.sqrt(1.5) * rng.uniform(0.5, 1.0, size=(3, 3))
    arg = 2 * np.pi * t_s[:, None, None] * freqs[None] + phases[None]
    return np.sum(amps[None] * np.sin(arg), axis=2)


def _sensor_reading(
    session: SessionParams,
    motion: dict,
    t_s: np.ndarray,
    rng: np.random.Generator,
    *,
    mount: np.ndarray | None = None,
    lever_arm_m: np.ndarray | None = None,
    noise_scale: float = 1.0,
    extra_noise_m_s2: float = 0.0,
    quantum_m_s2: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Accelerometer (m/s^2) and gyroscope (rad/s) readings in sensor axes."""
    p = _get_preset(session.subject.preset)
    mount = session.mount if mount is None else mount
    r = np.asarray(p.lever_arm_m if lever_arm_m is None else lever_arm_m, float)
    seg = Rotation.from_rotvec(motion["angles"])
    f_world = motion["acc_body"].copy()
    f_world[:, 2] += STANDARD_GRAVITY
    omega, omega_dot = motion["omega"], motion["omega_dot"]
    # specific force at the sensor: gravity + body acceleration seen from the rotating segment,
    # plus the lever-arm terms of the segment rotation (tangential and centripetal)
    f_seg = seg.inv().apply(f_world) + np.cross(omega_dot, r) + np.cross(omega, np.cross(omega, r))
    wob = Rotation.from_rotvec(_wobble(t_s, p.wobble_deg, rng))
    f_seg = wob.inv().apply(f_seg)
    acc = apply_rotation(mount, f_seg)
    gyr = apply_rotation(mount, omega)
    n = len(t_s)
    if session.bumps:  # handling artefacts: a few large, short transients
        for _ in range(int(rng.integers(3, 12))):
            t_b = rng.uniform(t_s.min(), t_s.max())
            width = rng.uniform(0.05, 0.4)
            env = np.exp(-0.5 * ((t_s - t_b) / width) ** 2)
            acc += env[:, None] * rng.normal(0.0, 25.0, size=3)[None, :]
    acc = acc * session.subject.acc_scale[None, :] + session.acc_bias_m_s2[None, :]
    acc += rng.normal(0.0, p.acc_noise_sd_m_s2 * noise_scale, size=(n, 3))
    if extra_noise_m_s2 > 0:
        acc += rng.normal(0.0, extra_noise_m_s2, size=(n, 3))
    q = p.acc_quantum_m_s2 if quantum_m_s2 is None else quantum_m_s2
    if q > 0:
        acc = np.round(acc / q) * q
    gyr = (
        gyr
        + session.gyr_bias_rad_s[None, :]
        + rng.normal(0.0, p.gyr_noise_sd_rad_s * noise_scale, size=(n, 3))
    )
    return acc, gyr


# ----------------------------------------------------------------------------- public API
@dataclass(frozen=True, eq=False)
class SimulatedWalk:
    """One simulated walk (sensor frame, gravity included).

    Attributes
    ----------
    timestamps_s : np.ndarray, shape (n_timepoints,)
        Sample times in seconds, starting at 0.
    acc : np.ndarray, shape (n_timepoints, 3)
        Specific force in m/s^2, sensor axes, gravity included.
    gyr : np.ndarray, shape (n_timepoints, 3)
        Angular velocity in rad/s, sensor axes.
    cycle_starts_s : np.ndarray, shape (n_cycles,)
        Ground-truth stride (gait-cycle) start times in seconds: one landmark per stride, the
        same gait event of the same foot every stride.
    stride_period_s : float
        Mean stride period of this walk in seconds.
    """

    timestamps_s: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    cycle_starts_s: np.ndarray
    stride_period_s: float


def simulate_session(
    session: SessionParams,
    timestamps_s: np.ndarray,
    rng: np.random.Generator,
    *,
    cadence_drift: float = 0.0,
    extra_noise_m_s2: float = 0.0,
) -> SimulatedWalk:
    """Synthesise one session at given sample times.

    Parameters
    ----------
    session : SessionParams
        From :func:`draw_session`.
    timestamps_s : np.ndarray, shape (n_timepoints,)
        Sample times in seconds (any spacing, non-decreasing, starting near 0).
    rng : np.random.Generator
        Random source for the stride sequence, noise and wobble.
    cadence_drift : float, default=0.0
        Relative linear change of the stride frequency over the session.
    extra_noise_m_s2 : float, default=0.0
        Extra white acceleration noise sd.

    Returns
    -------
    SimulatedWalk
    """
    t = np.asarray(timestamps_s, float)
    motion = _synthesize_motion(session, t, rng, cadence_drift)
    acc, gyr = _sensor_reading(session, motion, t, rng, extra_noise_m_s2=extra_noise_m_s2)
    return SimulatedWalk(t, acc, gyr, motion["cycle_starts_s"], motion["stride_period_s"])


def simulate_walk(
    duration_s: float,
    *,
    preset: str = "waist",
    seed: int = 0,
    rate_hz: float = 50.0,
    extra_noise_m_s2: float = 0.0,
    cadence_drift: float = 0.0,
) -> SimulatedWalk:
    """Simulate one walk of a random subject drawn from a preset's population.

    Parameters
    ----------
    duration_s : float
        Length of the walk in seconds (> 0).
    preset : str, default="waist"
        ``"waist"`` (OU-ISIR-like centre-back IMU) or ``"pocket"`` (McGill-like phone).
    seed : int, default=0
        Seed; the same seed gives the same walk.
    rate_hz : float, default=50.0
        Uniform sampling rate in Hz.
    extra_noise_m_s2 : float, default=0.0
        Standard deviation of extra white noise added to the acceleration (m/s^2).
    cadence_drift : float, default=0.0
        Relative linear change of the stride frequency over the walk (0.1 = +10 %).

    Returns
    -------
    SimulatedWalk
        Sensor-frame acceleration (m/s^2, gravity included), angular velocity (rad/s) and the
        ground-truth cycle starts.

    Examples
    --------
    >>> walk = simulate_walk(10.0, seed=1)
    >>> walk.acc.shape
    (500, 3)
    """
    if not duration_s > 0:
        raise ValueError(f"duration_s must be > 0, received duration_s={duration_s!r}")
    if not rate_hz > 0:
        raise ValueError(f"rate_hz must be > 0, received rate_hz={rate_hz!r}")
    p = _get_preset(preset)
    code = list(PRESETS).index(p.name) if p.name in PRESETS else 9
    subject = draw_subject(p, _rng(seed, _KEY_WALK, _KIND_SUBJECT, code))
    session = draw_session(subject, _rng(seed, _KEY_WALK, _KIND_SESSION, code))
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    return simulate_session(
        session,
        t,
        _rng(seed, _KEY_WALK, _KIND_SIGNAL, code),
        cadence_drift=cadence_drift,
        extra_noise_m_s2=extra_noise_m_s2,
    )


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """What a data-set simulation wrote.

    Attributes
    ----------
    root : Path
        Output folder.
    files : tuple of Path
        Data files written (not counting the truth, info and subject-list files).
    truth : dict
        Relative file path (posix) -> dict with ``cycle_starts_s`` (np.ndarray, seconds from the
        file's first sample), ``subject_id`` and other parameters. Also saved to
        ``root / TRUTH_FILENAME``.
    """

    root: Path
    files: tuple[Path, ...]
    truth: dict


def _progress(items, progress: bool | None, desc: str):
    """``items`` wrapped in a tqdm bar on stderr (``None``: only when stderr is a terminal)."""
    from tqdm.auto import tqdm

    return tqdm(
        items, desc=desc, unit="subject", disable=None if progress is None else not progress
    )


def _moved(result: SimulationResult, staging: Path, root: Path) -> SimulationResult:
    """``result`` with its paths moved from the staging folder to ``root``."""
    files = tuple(root / path.relative_to(staging) for path in result.files)
    return SimulationResult(root, files, result.truth)


def _write_info(root: Path, dataset: str, seed: int, params: dict) -> None:
    info = {
        "simulated": True,
        "note": "SIMULATED data written by gaitcnn.simulate; not a real data set.",
        "dataset_format": dataset,
        "generator": "gaitcnn.simulate",
        "simulator_version": SIMULATOR_VERSION,
        "gaitcnn_version": __version__,
        "seed": int(seed),
        "parameters": params,
    }
    (root / INFO_FILENAME).write_text(json.dumps(info, indent=1) + "\n")
    (root / "README.txt").write_text(
        f"SIMULATED {dataset}-format data set written by gaitcnn.simulate "
        f"(simulator {SIMULATOR_VERSION}, gaitcnn {__version__}, seed {seed}).\n"
        f"Not real recordings. Ground truth: {TRUTH_FILENAME}.\n"
    )


def _save_truth(root: Path, truth: dict) -> None:
    def enc(v):
        if isinstance(v, np.ndarray):
            return [round(float(x), 6) for x in v]
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        return v

    data = {name: {k: enc(v) for k, v in d.items()} for name, d in truth.items()}
    (root / TRUTH_FILENAME).write_text(json.dumps(data, separators=(",", ":")) + "\n")


def load_truth(root) -> dict:
    """Read the ground truth saved by :func:`simulate_ouisir` or :func:`simulate_mcgill`.

    Parameters
    ----------
    root : str or os.PathLike
        The simulation's output folder.

    Returns
    -------
    dict
        Relative file path -> dict; ``cycle_starts_s`` is an np.ndarray of seconds.
    """
    path = Path(root) / TRUTH_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"no simulation ground truth at {path}")
    data = json.loads(path.read_text())
    for d in data.values():
        d["cycle_starts_s"] = np.asarray(d["cycle_starts_s"], float)
    return data


def _ouisir_subject_ids(n_subjects: int, seed: int) -> list[int]:
    """Real-looking 6-digit ids: increasing, with random gaps; id k depends on k and seed only."""
    ids, cur = [], 0
    for k in range(n_subjects):
        cur += 1 + int(_rng(seed, _KEY_OUISIR, _KIND_META, k).integers(0, 12))
        ids.append(100 + cur)
    return ids


_OUISIR_SENSORS = {
    "center": "IMUZCenter",
    "left": "IMUZLeft",
    "right": "IMUZRight",
    "android": "Android",
}


def _ouisir_sensor_mount(sensor: str, session: SessionParams, rng: np.random.Generator) -> tuple:
    """Mounting matrix and lever arm of the other OU-ISIR sensors, relative to the centre IMU."""
    if sensor == "center":
        return session.mount, None
    tilt = _rotvec_deg(*rng.normal(0.0, 3.0, size=3))
    if sensor in ("left", "right"):
        side = 1.0 if sensor == "left" else -1.0
        # on the hip, facing outwards: the IMU's z points to the side instead of backwards
        yaw = Rotation.from_rotvec([0.0, 0.0, side * np.pi / 2]).as_matrix()
        return tilt @ _WAIST_MOUNT @ yaw.T, np.array([0.0, side * 0.15, 0.0])
    # Android phone at the centre back, upright: x = left, y = up, z = backward
    phone = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    return tilt @ phone, np.array([-0.10, 0.0, 0.05])


def simulate_ouisir(
    out_dir,
    *,
    n_subjects: int = 744,
    seed: int = 0,
    subsets: tuple[str, ...] = ("automatic", "manual"),
    sensors: tuple[str, ...] = ("center",),
    variant: str = "default",
    progress: bool | None = False,
) -> SimulationResult:
    """Write a simulated OU-ISIR inertial gait data set in the release's own layout and format.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Output root: must not exist or be an empty folder. The data set is written to
        ``<out_dir>.partial-<pid>`` and renamed into place when complete (with an empty
        ``.complete`` file), so an interrupted simulation never looks like a data set.
    n_subjects : int, default=744
        Number of subjects (the paper's automatic-subset count).
    seed : int, default=0
        Seed; subject ``k`` is the same whatever ``n_subjects`` is.
    subsets : tuple of str, default=("automatic", "manual")
        ``"automatic"`` writes ``AutomaticExtractionData_IMUZCenter/T0_ID%06d_Center_seq{0,1}.csv``
        (gallery ~5.97 +- 1.18 s, probe ~4.85 +- 1.10 s, shortest float repr, duplicated last
        line); ``"manual"`` writes ``ManualExtractionData/<sensor>/T0_ID%06d_Walk{1,2}.csv``
        (~5.3 s, 6 decimals).
    sensors : tuple of str, default=("center",)
        Manual-subset sensors among ``"center"``, ``"left"``, ``"right"``, ``"android"`` (the
        Android files have all-zero gyroscope columns).
    variant : str, default="default"
        ``"default"`` (the calibrated waist preset), ``"hard"`` (:func:`harder`), or either
        with every walk's sensors turned by a random rotation (``"rotated"``,
        ``"hard-rotated"``; :func:`session_rotation`; the truth then records each file's
        ``sensor_rotation_rotvec`` in radians), or ``"untilted"`` (:func:`untilted`).
    progress : bool or None, default=False
        Progress bar over the subjects on stderr; ``None`` shows it when stderr is a terminal.

    Returns
    -------
    SimulationResult

    Notes
    -----
    Files hold ``rows: N``, ``cols: 6`` and N rows ``Gx,Gy,Gz,Ax,Ay,Az`` (rad/s, then g) at
    100 Hz. Walk1/seq0 and Walk2/seq1 are two different sessions (new sensor placement and a
    little cadence and shape change); the manual and automatic files of a session are two crops of
    the same walk. ``IDGenderAgelist.csv`` (CRLF), ``simulation.json``, ``README.txt`` and
    ``simulation_truth.json`` are written too.
    """
    with staged_dir(out_dir, complete_marker=COMPLETE_MARKER) as staging:
        result = _write_ouisir(
            staging,
            n_subjects=n_subjects,
            seed=seed,
            subsets=subsets,
            sensors=sensors,
            variant=variant,
            progress=progress,
        )
    return _moved(result, staging, Path(out_dir))


def _ouisir_readings(session, motion, t, sensors, *, rotated: bool, key: tuple):
    """Each sensor's (acc in g, gyr in rad/s) for one walk, and the rotations of ``rotated``.

    ``key`` = (seed, subject index, session index): the random streams of every sensor.
    """
    seed, k, s_idx = key
    readings: dict[str, tuple] = {}
    turned: dict[str, list] = {}  # rotated variants: extra rotation per device
    for j, sensor in enumerate(sensors):
        srng = _rng(seed, _KEY_OUISIR, _KIND_SENSOR, k, s_idx, j)
        mount, lever = _ouisir_sensor_mount(sensor, session, srng)
        if rotated:
            code = list(_OUISIR_SENSORS).index(sensor)
            extra = session_rotation(seed, _KEY_OUISIR, k, s_idx, code)
            mount = extra @ mount
            turned[sensor] = [round(float(v), 6) for v in Rotation.from_matrix(extra).as_rotvec()]
        android = sensor == "android"
        acc, gyr = _sensor_reading(
            session,
            motion,
            t,
            srng,
            mount=mount,
            lever_arm_m=lever,
            noise_scale=2.0 if android else 1.0,
            quantum_m_s2=0.0 if android else None,
        )
        if android:
            gyr = np.zeros_like(gyr)
        # 6 decimals is below the 0.002 g resolution: keeps the shortest repr short
        readings[sensor] = (np.round(acc / STANDARD_GRAVITY, 6), np.round(gyr, 6))
    return readings, turned


def _write_ouisir(
    root: Path,
    *,
    n_subjects: int = 744,
    seed: int = 0,
    subsets: tuple[str, ...] = ("automatic", "manual"),
    sensors: tuple[str, ...] = ("center",),
    variant: str = "default",
    progress: bool | None = False,
) -> SimulationResult:
    """Write the data set of :func:`simulate_ouisir` into ``root`` (no staging)."""
    _check_ouisir_choices(subsets, sensors)
    preset, rotated = _variant_parts("waist", variant)
    ids = _ouisir_subject_ids(n_subjects, seed)
    files: list[Path] = []
    truth: dict = {}
    id_lines = ["ID,Gender(0:Female;1:Male),Age"]
    fs = OUISIR_RATE_HZ
    for k, sid in enumerate(_progress(ids, progress, "simulate OU-ISIR")):
        subject = draw_subject(preset, _rng(seed, _KEY_OUISIR, _KIND_SUBJECT, k))
        id_lines.append(f"{sid},{subject.sex},{subject.age}")
        meta = _rng(seed, _KEY_OUISIR, _KIND_META, k, 1)
        for s_idx in range(2):
            session = draw_session(subject, _rng(seed, _KEY_OUISIR, _KIND_SESSION, k, s_idx))
            mu, sd = ((5.97, 1.18), (4.85, 1.10))[s_idx]
            d_auto = float(np.clip(meta.normal(mu, sd), 3.0, 9.0))
            d_man = float(np.clip(meta.normal(5.3, 0.95), 3.5, 7.5))
            off_auto, off_man = meta.uniform(0.0, 1.0, size=2)
            t_end = max(off_auto + d_auto, off_man + d_man)
            t = np.arange(math.ceil(t_end * fs) + 1) / fs
            sig_rng = _rng(seed, _KEY_OUISIR, _KIND_SIGNAL, k, s_idx)
            motion = _synthesize_motion(session, t, sig_rng)
            need = ["center"] if "automatic" in subsets else []
            need += [s for s in sensors if "manual" in subsets and s not in need]
            readings, turned = _ouisir_readings(
                session, motion, t, need, rotated=rotated, key=(seed, k, s_idx)
            )
            starts = motion["cycle_starts_s"]
            crops = _ouisir_crops(
                sid, s_idx, subsets, sensors, (off_auto, d_auto), (off_man, d_man)
            )
            for rel, sensor, off, dur, fmt in crops:
                i0 = round(off * fs)
                n = round(dur * fs)
                acc_g, gyr = readings[sensor]
                path = write_ouisir_file(root / rel, gyr[i0 : i0 + n], acc_g[i0 : i0 + n], **fmt)
                files.append(path)
                t0 = i0 / fs
                cs = starts[(starts >= t0) & (starts < t0 + n / fs)] - t0
                truth[rel.as_posix()] = {
                    "subject_id": sid,
                    "subject_index": k,
                    "session": ("gallery", "probe")[s_idx],
                    "sensor": sensor,
                    "rate_hz": fs,
                    "n_rows": n,
                    "stride_freq_hz": session.stride_freq_hz,
                    "stride_period_s": motion["stride_period_s"],
                    "cycle_starts_s": cs,
                    "subject": subject.summary(),
                }
                if rotated:
                    truth[rel.as_posix()]["sensor_rotation_rotvec"] = turned[sensor]
    (root / "IDGenderAgelist.csv").write_bytes(("\r\n".join(id_lines) + "\r\n").encode("ascii"))
    _write_info(
        root,
        "OU-ISIR",
        seed,
        {
            "n_subjects": n_subjects,
            "subsets": list(subsets),
            "sensors": list(sensors),
            "preset": preset,
            "variant": variant,
        },
    )
    _save_truth(root, truth)
    return SimulationResult(root, tuple(files), truth)


def _check_ouisir_choices(subsets, sensors) -> None:
    bad = [s for s in subsets if s not in ("automatic", "manual")]
    if bad:
        raise ValueError(f"unknown subsets {bad!r}; expected 'automatic' and/or 'manual'")
    bad = [s for s in sensors if s not in _OUISIR_SENSORS]
    if bad:
        raise ValueError(f"unknown sensors {bad!r}; expected some of {sorted(_OUISIR_SENSORS)}")


def _ouisir_crops(sid, s_idx: int, subsets, sensors, automatic, manual) -> list:
    """``(relative path, sensor, offset s, duration s, format)`` of every file of one walk.

    ``automatic`` and ``manual`` are the (offset, duration) of the two subsets' crops.
    """
    crops = []
    if "automatic" in subsets:
        rel = Path("AutomaticExtractionData_IMUZCenter") / ouisir_automatic_filename(sid, s_idx)
        crops.append((rel, "center", *automatic, dict(duplicate_last_line=True)))
    if "manual" in subsets:
        for sensor in sensors:
            name = ouisir_manual_filename(sid, f"Walk{s_idx + 1}")
            rel = Path("ManualExtractionData") / _OUISIR_SENSORS[sensor] / name
            crops.append((rel, sensor, *manual, dict(decimals=6)))
    return crops


def _android_timestamps_ms(
    duration_s: float, rng: np.random.Generator, start_ms: int
) -> np.ndarray:
    """Irregular Android event times: ~35 +- 5 ms steps, rare duplicates and gaps > 0.5 s."""
    n = int(duration_s / 0.035 * 1.2) + 10
    steps = np.clip(rng.normal(35.0, 5.0, size=n), 5.0, None)
    dup = rng.random(n) < 0.002
    steps[dup] = 0.0
    gap = rng.random(n) < 0.0003
    steps[gap] = rng.uniform(500.0, 2000.0, size=int(gap.sum()))
    t = np.concatenate([[0.0], np.cumsum(steps)])
    t = t[t <= duration_s * 1000.0]
    return start_ms + np.round(t).astype(np.int64)


def simulate_mcgill(
    out_dir,
    *,
    n_subjects: int = 20,
    n_days: int = 2,
    duration_s: float = 900.0,
    seed: int = 0,
    gz: bool = False,
    variant: str = "default",
    progress: bool | None = False,
) -> SimulationResult:
    """Write a simulated McGill-like data set: one file per subject and day, phone in a pocket.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Output root: must not exist or be an empty folder. The data set is written to
        ``<out_dir>.partial-<pid>`` and renamed into place when complete (with an empty
        ``.complete`` file), so an interrupted simulation never looks like a data set.
    n_subjects : int, default=20
        Number of subjects.
    n_days : int, default=2
        Days per subject; every day gets a new phone placement and a slightly changed gait.
    duration_s : float, default=900.0
        Length of each day's walk in seconds.
    seed : int, default=0
        Seed; subject ``k`` is the same whatever ``n_subjects`` is.
    gz : bool, default=False
        Gzip the files (``.csv.gz``).
    variant : str, default="default"
        ``"default"`` (the calibrated pocket preset), ``"hard"`` (:func:`harder`), or either
        with the phone turned by a uniform random rotation every day on top of its pocket
        placement (``"rotated"``, ``"hard-rotated"``; :func:`session_rotation`). ``"untilted"``
        is the default here: the pocket preset has no subject tilt.
    progress : bool or None, default=False
        Progress bar over the subjects on stderr; ``None`` shows it when stderr is a terminal.

    Returns
    -------
    SimulationResult

    Notes
    -----
    Files ``subjectNN_dayD.csv``: a header line ``timestamp_ms,ax,ay,az,gx,gy,gz``, then epoch
    millisecond Android timestamps (irregular, mean ~35 ms, sd ~5 ms, rare duplicates and gaps
    > 0.5 s), acceleration in m/s^2 and angular velocity in rad/s.
    """
    with staged_dir(out_dir, complete_marker=COMPLETE_MARKER) as staging:
        result = _write_mcgill(
            staging,
            n_subjects=n_subjects,
            n_days=n_days,
            duration_s=duration_s,
            seed=seed,
            gz=gz,
            variant=variant,
            progress=progress,
        )
    return _moved(result, staging, Path(out_dir))


def _write_mcgill(
    root: Path,
    *,
    n_subjects: int = 20,
    n_days: int = 2,
    duration_s: float = 900.0,
    seed: int = 0,
    gz: bool = False,
    variant: str = "default",
    progress: bool | None = False,
) -> SimulationResult:
    """Write the data set of :func:`simulate_mcgill` into ``root`` (no staging)."""
    preset, rotated = _variant_parts("pocket", variant)
    files: list[Path] = []
    truth: dict = {}
    for k in _progress(range(n_subjects), progress, "simulate McGill"):
        sid = k + 1
        subject = draw_subject(preset, _rng(seed, _KEY_MCGILL, _KIND_SUBJECT, k))
        for day in range(1, n_days + 1):
            day_state = _draw_day(subject, _rng(seed, _KEY_MCGILL, _KIND_META, k, day))
            session = draw_session(
                subject, _rng(seed, _KEY_MCGILL, _KIND_SESSION, k, day), day_state=day_state
            )
            if rotated:
                extra = session_rotation(seed, _KEY_MCGILL, k, day, 0)
                session = dataclasses.replace(session, mount=extra @ session.mount)
            sig_rng = _rng(seed, _KEY_MCGILL, _KIND_SIGNAL, k, day)
            start_ms = 1_300_000_000_000 + int(sig_rng.integers(0, 10**9)) + day * 86_400_000
            t_ms = _android_timestamps_ms(duration_s, sig_rng, start_ms)
            t_s = (t_ms - t_ms[0]) / 1000.0
            walk = simulate_session(session, t_s, sig_rng)
            name = mcgill_filename(sid, day, gz=gz)
            path = write_mcgill_file(root / name, t_ms, walk.acc, walk.gyr)
            files.append(path)
            truth[name] = {
                "subject_id": sid,
                "day": day,
                "rate_hz": float(len(t_ms) / max(t_s[-1], 1e-9)),
                "stride_freq_hz": session.stride_freq_hz,
                "stride_period_s": walk.stride_period_s,
                "cycle_starts_s": walk.cycle_starts_s,
                "t0_ms": int(t_ms[0]),
                "subject": subject.summary(),
            }
            if rotated:
                rotvec = Rotation.from_matrix(extra).as_rotvec()
                truth[name]["sensor_rotation_rotvec"] = [round(float(v), 6) for v in rotvec]
    _write_info(
        root,
        "McGill",
        seed,
        {
            "n_subjects": n_subjects,
            "n_days": n_days,
            "duration_s": duration_s,
            "preset": preset,
            "variant": variant,
        },
    )
    _save_truth(root, truth)
    return SimulationResult(root, tuple(files), truth)
