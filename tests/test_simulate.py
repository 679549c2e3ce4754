"""Tests of the built-in walking simulator (numpy/scipy only, no TensorFlow)."""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import json
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from gaitcnn.simulate import (
    COMPLETE_MARKER,
    INFO_FILENAME,
    TRUTH_FILENAME,
    SimulatedWalk,
    apply_rotation,
    load_truth,
    random_rotation,
    simulate_mcgill,
    simulate_ouisir,
    simulate_walk,
)

CAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "calibration"


@pytest.fixture(scope="module")
def cal():
    """The shared calibration estimators (../shared/calibration), or skip."""
    if not (CAL_DIR / "calibration_stats.py").is_file():
        pytest.skip(f"shared calibration estimators not found at {CAL_DIR}")
    if str(CAL_DIR) not in sys.path:
        sys.path.insert(0, str(CAL_DIR))
    return importlib.import_module("calibration_stats")


def _read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


# ----------------------------------------------------------------------------- contract
class TestContractWalk:
    def test_shapes_and_types(self):
        walk = simulate_walk(8.0, seed=3, rate_hz=50.0)
        assert isinstance(walk, SimulatedWalk)
        assert walk.timestamps_s.shape == (400,)
        assert walk.acc.shape == (400, 3) and walk.gyr.shape == (400, 3)
        assert np.all(np.diff(walk.timestamps_s) > 0)
        assert np.isfinite(walk.acc).all() and np.isfinite(walk.gyr).all()
        assert walk.cycle_starts_s.ndim == 1 and len(walk.cycle_starts_s) >= 5

    @pytest.mark.parametrize("preset", ["waist", "pocket"])
    def test_deterministic(self, preset):
        a = simulate_walk(6.0, preset=preset, seed=11)
        b = simulate_walk(6.0, preset=preset, seed=11)
        c = simulate_walk(6.0, preset=preset, seed=12)
        np.testing.assert_array_equal(a.acc, b.acc)
        np.testing.assert_array_equal(a.gyr, b.gyr)
        np.testing.assert_array_equal(a.cycle_starts_s, b.cycle_starts_s)
        assert not np.allclose(a.acc, c.acc)

    def test_invalid_arguments(self):
        with pytest.raises(ValueError, match="duration_s"):
            simulate_walk(0.0)
        with pytest.raises(ValueError, match="preset"):
            simulate_walk(5.0, preset="wrist")


class TestBehaviourWalk:
    @pytest.mark.parametrize("preset", ["waist", "pocket"])
    def test_gravity_level(self, preset):
        for seed in range(5):
            walk = simulate_walk(20.0, preset=preset, seed=seed)
            norm_mean = np.linalg.norm(walk.acc.mean(axis=0))
            mean_norm = np.linalg.norm(walk.acc, axis=1).mean()
            assert 9.0 < norm_mean < 10.6  # |mean acc vector| ~ g (scale error, thigh swing)
            assert norm_mean < mean_norm < norm_mean + 2.0  # Jensen: walking adds ~0.4 m/s^2

    def test_cadence_range_and_truth(self):
        for seed in range(10):
            walk = simulate_walk(20.0, seed=seed)
            cadence_steps_min = 120.0 / walk.stride_period_s
            assert 85.0 < cadence_steps_min < 160.0
            intervals = np.diff(walk.cycle_starts_s)
            assert np.all(intervals > 0)
            assert abs(np.mean(intervals) / walk.stride_period_s - 1.0) < 0.05
            assert np.std(intervals) / np.mean(intervals) < 0.12

    def test_waist_gravity_along_minus_y(self):
        g = np.array([simulate_walk(10.0, seed=s).acc.mean(axis=0) for s in range(8)])
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        assert np.all(g[:, 1] < -0.95)

    def test_pocket_gravity_in_xy_plane(self):
        g = np.array(
            [simulate_walk(30.0, preset="pocket", seed=s).acc.mean(axis=0) for s in range(8)]
        )
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        assert np.all(np.abs(g[:, 2]) < 0.35)

    def test_cadence_drift(self):
        walk = simulate_walk(60.0, seed=4, cadence_drift=0.1)
        iv = np.diff(walk.cycle_starts_s)
        third = len(iv) // 3
        ratio = np.mean(iv[:third]) / np.mean(iv[-third:])
        assert 1.04 < ratio < 1.16  # stride frequency ~ +10 % from start to end

    def test_extra_noise(self):
        a = simulate_walk(10.0, seed=5)
        b = simulate_walk(10.0, seed=5, extra_noise_m_s2=0.5)
        assert 0.4 < np.std(b.acc - a.acc) < 0.6

    def test_rotation_changes_axes_not_magnitude(self):
        walk = simulate_walk(5.0, seed=2)
        rot = random_rotation(np.random.default_rng(0))
        np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
        assert np.isclose(np.linalg.det(rot), 1.0)
        rotated = apply_rotation(rot, walk.acc)
        assert not np.allclose(rotated, walk.acc, atol=0.5)
        np.testing.assert_allclose(
            np.linalg.norm(rotated, axis=1), np.linalg.norm(walk.acc, axis=1)
        )
        small = random_rotation(np.random.default_rng(1), max_angle_deg=10.0)
        angle = np.degrees(np.arccos((np.trace(small) - 1) / 2))
        assert angle <= 10.0 + 1e-9


# ----------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def ouisir_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ouisir")
    res = simulate_ouisir(
        root, n_subjects=3, seed=7, sensors=("center", "left", "right", "android")
    )
    return root, res


class TestOuisirFiles:
    def test_layout(self, ouisir_root):
        root, res = ouisir_root
        auto = sorted((root / "AutomaticExtractionData_IMUZCenter").glob("*.csv"))
        assert len(auto) == 6
        for folder in ("IMUZCenter", "IMUZLeft", "IMUZRight", "Android"):
            assert (
                len(list((root / "ManualExtractionData" / folder).glob("T0_ID*_Walk[12].csv"))) == 6
            )
        assert len(res.files) == 6 + 4 * 6
        names = [p.name for p in auto]
        assert all(n.startswith("T0_ID") and n[5:11].isdigit() for n in names)

    def test_automatic_format(self, ouisir_root):
        root, _ = ouisir_root
        for path in (root / "AutomaticExtractionData_IMUZCenter").glob("*.csv"):
            lines = _read_lines(path)
            n = int(lines[0].split(":")[1])
            assert lines[1] == "cols: 6"
            assert len(lines) == n + 3  # one duplicated extra data line
            assert lines[-1] == lines[-2]
            rows = np.array([[float(v) for v in ln.split(",")] for ln in lines[2 : 2 + n]])
            assert rows.shape == (n, 6)
            assert 300 <= n <= 900  # 3-9 s at 100 Hz
            acc_g = rows[:, 3:]
            assert 0.9 < np.linalg.norm(acc_g.mean(axis=0)) < 1.1  # acceleration in g
            assert acc_g.mean(axis=0)[1] < -0.9  # gravity along -y
            assert np.abs(rows[:, :3]).max() < 10  # gyro in rad/s

    def test_manual_format(self, ouisir_root):
        root, _ = ouisir_root
        for folder in ("IMUZCenter", "Android"):
            for path in (root / "ManualExtractionData" / folder).glob("*.csv"):
                lines = _read_lines(path)
                n = int(lines[0].split(":")[1])
                assert len(lines) == n + 2
                assert all(len(v.split(".")[1]) == 6 for v in lines[2].split(","))
                gyr = np.array([[float(v) for v in ln.split(",")[:3]] for ln in lines[2:]])
                if folder == "Android":
                    assert np.all(gyr == 0.0)
                else:
                    assert np.abs(gyr).max() > 0.1

    def test_id_list_and_info(self, ouisir_root):
        root, res = ouisir_root
        raw = (root / "IDGenderAgelist.csv").read_bytes()
        assert raw.startswith(b"ID,Gender(0:Female;1:Male),Age\r\n")
        assert raw.count(b"\r\n") == 4
        info = json.loads((root / INFO_FILENAME).read_text())
        assert info["simulated"] is True and info["seed"] == 7
        assert "SIMULATED" in (root / "README.txt").read_text()
        ids = {int(ln.split(",")[0]) for ln in raw.decode().split("\r\n")[1:] if ln}
        assert ids == {v["subject_id"] for v in res.truth.values()}

    def test_truth_round_trip(self, ouisir_root):
        root, res = ouisir_root
        truth = load_truth(root)
        assert set(truth) == set(res.truth)
        assert (root / TRUTH_FILENAME).is_file()
        for name, d in truth.items():
            np.testing.assert_allclose(
                d["cycle_starts_s"], res.truth[name]["cycle_starts_s"], atol=1e-6
            )
            assert d["subject_id"] == res.truth[name]["subject_id"]
            n_rows = int(_read_lines(root / name)[0].split(":")[1])
            cs = d["cycle_starts_s"]
            assert np.all((cs >= 0) & (cs < n_rows / 100.0))
            assert len(cs) >= 2

    def test_deterministic_and_prefix_stable(self, ouisir_root, tmp_path):
        root, _ = ouisir_root
        again = simulate_ouisir(tmp_path / "a", n_subjects=2, seed=7, subsets=("automatic",))
        other = simulate_ouisir(tmp_path / "b", n_subjects=2, seed=8, subsets=("automatic",))
        for path in again.files:  # subject k does not depend on n_subjects
            rel = path.relative_to(again.root)
            assert path.read_bytes() == (root / rel).read_bytes()
        assert {p.name for p in again.files} != {p.name for p in other.files} or any(
            p.read_bytes() != q.read_bytes() for p, q in zip(again.files, other.files, strict=True)
        )

    def test_ids_look_real(self, tmp_path):
        res = simulate_ouisir(tmp_path, n_subjects=30, seed=0, subsets=("automatic",))
        ids = sorted({v["subject_id"] for v in res.truth.values()})
        assert len(ids) == 30 and ids[0] >= 100 and ids[-1] < 10**6
        assert ids[-1] - ids[0] > 30  # not contiguous


class TestMcgillFiles:
    def test_format_and_timestamps(self, tmp_path):
        res = simulate_mcgill(tmp_path, n_subjects=2, n_days=2, duration_s=120.0, seed=1)
        assert sorted(p.name for p in res.files) == [
            "subject01_day1.csv",
            "subject01_day2.csv",
            "subject02_day1.csv",
            "subject02_day2.csv",
        ]
        lines = _read_lines(tmp_path / "subject01_day1.csv")
        assert lines[0] == "timestamp_ms,ax,ay,az,gx,gy,gz"
        data = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
        t = data[:, 0]
        assert t[0] > 1e12  # epoch milliseconds
        dt = np.diff(t)
        assert 32.0 < np.mean(dt[dt < 200]) < 38.0
        assert 3.0 < np.std(dt[dt < 200]) < 7.0
        assert len(np.unique(dt)) > 10  # irregular
        acc = data[:, 1:4]
        assert 9.0 < np.linalg.norm(acc.mean(axis=0)) < 10.8  # m/s^2
        truth = load_truth(tmp_path)
        cs = truth["subject01_day1.csv"]["cycle_starts_s"]
        assert 80 < len(cs) < 160 and cs[-1] <= (t[-1] - t[0]) / 1000.0

    def test_rare_duplicates_and_gaps(self, tmp_path):
        res = simulate_mcgill(tmp_path, n_subjects=1, n_days=1, duration_s=900.0, seed=2, gz=True)
        with gzip.open(res.files[0], "rt") as f:
            next(f)
            t = np.array([int(ln.split(",", 1)[0]) for ln in f])
        dt = np.diff(t)
        assert 0 < np.sum(dt == 0) < 0.01 * len(dt)
        assert 0 < np.sum(dt > 500) < 30

    def test_days_differ_in_orientation(self, tmp_path):
        res = simulate_mcgill(tmp_path, n_subjects=3, n_days=2, duration_s=40.0, seed=3)
        angles = []
        for sid in (1, 2, 3):
            g = []
            for day in (1, 2):
                d = np.loadtxt(
                    tmp_path / f"subject{sid:02d}_day{day}.csv", delimiter=",", skiprows=1
                )
                m = d[:, 1:4].mean(axis=0)
                g.append(m / np.linalg.norm(m))
            angles.append(np.degrees(np.arccos(np.clip(g[0] @ g[1], -1, 1))))
        assert max(angles) > 5.0
        assert len(res.truth) == 6


# ----------------------------------------------------------------------------- calibration
@pytest.fixture(scope="module")
def waist_summary(cal, tmp_path_factory):
    """Shared estimators on 60 simulated OU-ISIR-like subjects (Walk1/Walk2)."""
    root = tmp_path_factory.mktemp("calib_waist")
    simulate_ouisir(root, n_subjects=60, seed=0, subsets=("manual",))
    recs = cal.load_ouisir(str(root / "ManualExtractionData" / "IMUZCenter"), 50.0)
    assert len(recs) == 120
    return cal.summarise(recs, "ouisir", 5)


class TestCalibrationWaist:
    """Key CALIBRATION.md rows, with tolerances widened for a 60-subject sample."""

    def test_stride_frequency(self, waist_summary):
        f = waist_summary["stride"]["f_subject"]
        assert abs(f["mean"] - 1.01) < 0.05
        assert 0.045 < f["sd"] < 0.12

    def test_harmonic_profile(self, waist_summary):
        prof = np.array(waist_summary["harmonics"]["mag"]["mean"])
        target = np.array([0.06, 1.09, 0.12, 0.21, 0.08, 0.27, 0.09, 0.23, 0.09, 0.21])
        assert int(np.argmax(prof)) == 1  # h2 (the step frequency) dominates |a|
        assert np.max(np.abs(prof - target)) < 0.12
        r2 = waist_summary["harmonics"]["mag"]["r2"]["mean"]
        assert 0.66 < r2 < 0.86

    def test_dynamic_level(self, waist_summary):
        sd = waist_summary["levels"]["sd_mag"]["median"]
        assert 3.0 * 0.75 < sd < 3.0 * 1.25

    def test_orientation(self, waist_summary):
        comp = waist_summary["orientation"]["comp"]
        assert comp["y"]["median"] < -0.97
        assert 2.5 < waist_summary["orientation"]["angle_to_mean_dir"]["median"] < 10.0

    def test_difficulty_index(self, waist_summary):
        # real OU-ISIR: prof+f 1-NN rank-1 0.35 +- 0.08 at K = 38
        acc = waist_summary["difficulty"]["38"]["prof+f"]["mean"]
        assert 0.15 < acc < 0.6


class TestCalibrationPocket:
    def test_pocket_sessions(self, cal):
        from gaitcnn.simulate import _rng, draw_session, draw_subject, simulate_session

        stats = []
        for k in range(6):
            subject = draw_subject("pocket", _rng(0, 3, 0, k))
            for s in range(3):
                session = draw_session(subject, _rng(0, 3, 1, k, s))
                walk = simulate_session(session, np.arange(0, 32.0, 0.02), _rng(0, 3, 2, k, s))
                stats.append(cal.recording_stats(walk.acc, 50.0))
        f = np.array([st["f"] for st in stats])
        assert 0.75 < np.nanmedian(f) < 1.1
        g = np.array([st["grav_dir"] for st in stats])
        assert np.mean(np.abs(g[:, 2]) < 0.25) > 0.85  # gravity in the phone's x-y plane
        step_reg = np.nanmedian([st["step_reg"] for st in stats])
        stride_reg = np.nanmedian([st["stride_reg"] for st in stats])
        assert step_reg < stride_reg  # pocket: strong odd harmonics (one leg)


# ----------------------------------------------------------------------------- hard variant
class TestHardVariant:
    def test_harder_scales_session_day_and_noise_only(self):
        from gaitcnn.simulate import PRESETS, harder

        assert list(PRESETS)[:2] == ["waist", "pocket"]  # codes of the calibrated presets
        for name in ("waist", "pocket"):
            base, hard = PRESETS[name], PRESETS[f"{name}-hard"]
            assert hard == harder(base) and hard.name == f"{name}-hard"
            assert hard.session_amp_log_sd == pytest.approx(2 * base.session_amp_log_sd)
            assert hard.day_factor == pytest.approx(1.5 * base.day_factor)
            assert hard.acc_noise_sd_m_s2 == pytest.approx(5 * base.acc_noise_sd_m_s2)
            # the population of subjects is the same
            assert hard.subject_amp_log_sd == base.subject_amp_log_sd
            assert hard.stride_freq_sd_hz == base.stride_freq_sd_hz

    def test_unknown_variant_is_named(self, tmp_path):
        with pytest.raises(ValueError, match=r"variant.*'easy'"):
            simulate_ouisir(tmp_path, n_subjects=1, variant="easy")
        from gaitcnn.prepare import ensure_simulated

        with pytest.raises(ValueError, match=r"variant.*'easy'"):
            ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=1, variant="easy")

    def test_same_subjects_more_session_change_and_noise(self, tmp_path):
        kw = dict(n_subjects=24, seed=3, subsets=("automatic",))
        easy = simulate_ouisir(tmp_path / "easy", **kw)
        hard = simulate_ouisir(tmp_path / "hard", variant="hard", **kw)
        assert set(easy.truth) == set(hard.truth)
        info = json.loads((hard.root / INFO_FILENAME).read_text())
        assert info["parameters"]["variant"] == "hard"
        assert info["parameters"]["preset"] == "waist-hard"

        def session_change(res):
            f = {}
            for d in res.truth.values():
                f.setdefault(d["subject_id"], {})[d["session"]] = d["stride_freq_hz"]
            return np.mean([abs(np.log(v["probe"] / v["gallery"])) for v in f.values()])

        def roughness(res):  # white noise dominates 6th differences at 100 Hz
            out = []
            for path in res.files:
                rows = np.loadtxt(path, delimiter=",", skiprows=2)[:, 3:]
                out.append(np.median(np.abs(np.diff(rows, n=6, axis=0))))
            return float(np.median(out))

        assert session_change(hard) > 1.3 * session_change(easy)
        assert roughness(hard) > 2.0 * roughness(easy)

    def test_ensure_simulated_keeps_variants_apart(self, tmp_path):
        from gaitcnn.prepare import ensure_simulated

        a = ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=1, duration_s=20.0)
        b = ensure_simulated(
            "mcgill", cache_dir=tmp_path, n_subjects=1, duration_s=20.0, variant="hard"
        )
        assert a != b and b.name.endswith("-hard") and not a.name.endswith("-hard")
        assert json.loads((b / INFO_FILENAME).read_text())["parameters"]["preset"] == "pocket-hard"
        assert (a / "subject01_day1.csv").read_bytes() != (b / "subject01_day1.csv").read_bytes()


# ----------------------------------------------------------------------------- rotated variants
def _digest(root: Path) -> str:
    """sha256 of every data and truth file (not the info files, which carry the version)."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in (INFO_FILENAME, "README.txt", COMPLETE_MARKER):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _ouisir_rows(root: Path, rel: str) -> tuple[np.ndarray, np.ndarray]:
    """(acc in m/s^2, gyr in rad/s) of one simulated OU-ISIR file."""
    rows = np.loadtxt(root / rel, delimiter=",", skiprows=2)
    return rows[:, 3:] * 9.80665, rows[:, :3]


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


@pytest.fixture(scope="module")
def rotated_pair(tmp_path_factory):
    """The same 16 OU-ISIR-like subjects, default and rotated (manual subset, centre IMU)."""
    base = tmp_path_factory.mktemp("rotated")
    kw = dict(n_subjects=16, seed=2, subsets=("manual",))
    return (
        simulate_ouisir(base / "default", **kw),
        simulate_ouisir(base / "rotated", variant="rotated", **kw),
    )


class TestRotatedVariant:
    # Digests of the data written before the rotated variants existed (commit 45cbe30): adding
    # them must not change one byte of the default or hard data sets.
    GOLDEN: ClassVar[dict] = {
        "default": (
            "32b752c047e7ba75e7ed231d639a38106ce5e2f125ee7978c7894c014fbd630a",
            "912d099315bd1d9252e6805d1dac50f50fc348a680ca2381822d46e7f6252f17",
        ),
        "hard": (
            "b094d4c43424b96d2e56f1d1da442ccfd43d7a237b0a85bdac3758be7ec23c8c",
            "a6df0ab436ded2c3276dd12f827bebafacb0074ebfd4ee7b85bc245dddd5cee6",
        ),
    }

    @staticmethod
    def _both(tmp_path: Path, variant: str, seed: int = 5):
        sensors = ("center", "left", "right", "android")
        a = simulate_ouisir(
            tmp_path / f"o-{variant}-{seed}", n_subjects=3, seed=seed, sensors=sensors,
            variant=variant,
        )  # fmt: skip
        b = simulate_mcgill(
            tmp_path / f"m-{variant}-{seed}", n_subjects=2, duration_s=20.0, seed=seed,
            variant=variant,
        )  # fmt: skip
        return _digest(a.root), _digest(b.root)

    @pytest.mark.parametrize("variant", ["default", "hard"])
    def test_earlier_variants_are_byte_identical(self, tmp_path, variant):
        assert self._both(tmp_path, variant) == self.GOLDEN[variant]

    def test_deterministic_with_the_seed(self, tmp_path):
        first = self._both(tmp_path / "a", "rotated")
        assert first == self._both(tmp_path / "b", "rotated")
        assert first[0] != self._both(tmp_path / "c", "rotated", seed=6)[0]
        assert first[0] not in (self.GOLDEN["default"][0], self._both(tmp_path, "hard-rotated")[0])

    def test_rigid_rotation_of_acc_and_gyro_together(self, rotated_pair):
        """rotated ~= R default for both sensors, with the R the truth records."""
        from scipy.spatial.transform import Rotation

        default, rotated = rotated_pair
        assert set(default.truth) == set(rotated.truth)
        for rel, info in rotated.truth.items():
            turn = Rotation.from_rotvec(info["sensor_rotation_rotvec"]).as_matrix()
            acc0, gyr0 = _ouisir_rows(default.root, rel)
            acc1, gyr1 = _ouisir_rows(rotated.root, rel)
            # what remains is the sensor-frame error applied before vs after the turn: per-axis
            # scale (sd 1.6 %, i.e. up to ~0.35 m/s^2 at |a| ~ 10), bias, noise, 0.002 g steps;
            # the transposed (wrong) rotation leaves 0.8-13 m/s^2 on the same walks
            acc_residual = np.sqrt(np.mean((acc1 - apply_rotation(turn, acc0)) ** 2))
            gyr_residual = np.sqrt(np.mean((gyr1 - apply_rotation(turn, gyr0)) ** 2))
            assert acc_residual < 0.5, rel  # m/s^2
            assert gyr_residual < 0.04, rel  # rad/s: noise 0.018 x sqrt(2), bias 0.005
            # a mis-rotated gyroscope (e.g. left in the old frame) would be far off
            assert np.sqrt(np.mean((gyr1 - gyr0) ** 2)) > 3 * gyr_residual

    def test_gravity_turns_between_walks_norms_do_not(self, rotated_pair):
        default, rotated = rotated_pair

        def per_subject(result):
            out: dict = {}
            for rel, info in result.truth.items():
                acc, _ = _ouisir_rows(result.root, rel)
                norm = np.linalg.norm(acc, axis=1)
                out.setdefault(info["subject_id"], {})[info["session"]] = (
                    acc.mean(axis=0),
                    norm.mean(),
                    norm.std(),
                )
            return out

        d, r = per_subject(default), per_subject(rotated)
        turn_d = [_angle_deg(v["gallery"][0], v["probe"][0]) for v in d.values()]
        turn_r = [_angle_deg(v["gallery"][0], v["probe"][0]) for v in r.values()]
        # default: the belt IMU sits the same way twice (~2 deg); rotated: uniform on SO(3),
        # median angle between two random directions 90 deg
        assert np.median(turn_d) < 6.0
        assert np.median(turn_r) > 45.0 and min(turn_r) > 2 * np.median(turn_d)
        mean_ratio = [r[s][w][1] / d[s][w][1] for s in d for w in ("gallery", "probe")]
        sd_ratio = [r[s][w][2] / d[s][w][2] for s in d for w in ("gallery", "probe")]
        # |a| is orientation-free up to the per-axis scale error (sd 1.6 %), which now meets
        # gravity on another axis: a few % per walk, nothing on average
        assert np.median(np.abs(np.log(mean_ratio))) < 0.015
        assert np.max(np.abs(np.log(mean_ratio))) < 0.06
        assert abs(np.mean(np.log(mean_ratio))) < 0.01
        assert np.median(np.abs(np.log(sd_ratio))) < 0.05

    def test_ensure_simulated_and_cli_accept_rotated(self, tmp_path):
        from click.testing import CliRunner

        from gaitcnn.cli import main
        from gaitcnn.prepare import ensure_simulated

        root = ensure_simulated("ouisir", cache_dir=tmp_path, n_subjects=2, variant="rotated")
        assert root.name.endswith("-rotated")
        info = json.loads((root / INFO_FILENAME).read_text())["parameters"]
        assert info["variant"] == "rotated" and info["preset"] == "waist"
        args = ["simulate", "--dataset", "mcgill", "--subjects", "1", "--duration-s", "20"]
        out = tmp_path / "cli"
        result = CliRunner().invoke(main, [*args, "--variant", "hard-rotated", "--out", str(out)])
        assert result.exit_code == 0, result.output
        truth = load_truth(out)
        assert all(len(d["sensor_rotation_rotvec"]) == 3 for d in truth.values())


# ----------------------------------------------------------------------------- untilted variant
class TestUntiltedVariant:
    def test_only_the_subject_tilt_goes(self):
        from gaitcnn.simulate import PRESETS, untilted

        assert list(PRESETS)[:4] == ["waist", "pocket", "waist-hard", "pocket-hard"]  # codes
        for name in ("waist", "pocket"):
            base, flat = PRESETS[name], PRESETS[f"{name}-untilted"]
            assert flat == untilted(base) and flat.tilt_subject_deg == (0.0, 0.0, 0.0)
            assert (
                dataclasses.replace(flat, name=name, tilt_subject_deg=base.tilt_subject_deg) == base
            )

    def test_pocket_data_are_the_default_ones(self, tmp_path):
        """The pocket preset has no subject tilt: its untilted recordings are the same bytes."""
        kw = dict(n_subjects=2, duration_s=20.0, seed=5)
        default = simulate_mcgill(tmp_path / "default", **kw)
        flat = simulate_mcgill(tmp_path / "untilted", variant="untilted", **kw)
        assert [p.name for p in default.files] == [p.name for p in flat.files]
        for a, b in zip(default.files, flat.files, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name

    def test_same_walks_one_tilt_for_everybody(self, tmp_path):
        kw = dict(n_subjects=16, seed=2, subsets=("manual",))
        default = simulate_ouisir(tmp_path / "default", **kw)
        flat = simulate_ouisir(tmp_path / "untilted", variant="untilted", **kw)
        info = json.loads((flat.root / INFO_FILENAME).read_text())["parameters"]
        assert info["variant"] == "untilted" and info["preset"] == "waist-untilted"

        def walks(result):
            return {rel: _ouisir_rows(result.root, rel)[0] for rel in sorted(result.truth)}

        def spread_deg(acc_by_walk):  # median angle of each walk's mean "up" to the overall mean
            ups = np.array([a.mean(axis=0) / np.linalg.norm(a.mean(axis=0)) for a in acc_by_walk])
            return float(np.median([_angle_deg(u, ups.mean(axis=0)) for u in ups]))

        a, b = walks(default), walks(flat)
        assert a.keys() == b.keys()
        # every subject wears the sensor the same way: only the session tilt (1.1 deg per axis)
        # and the wobble are left, against the subject's own ~6 deg
        assert spread_deg(b.values()) < 0.5 * spread_deg(a.values())
        # the same walks: |a| does not see the tilt (up to the per-axis scale error)
        ratio = [
            np.linalg.norm(b[r], axis=1).mean() / np.linalg.norm(a[r], axis=1).mean() for r in a
        ]
        assert np.median(np.abs(np.log(ratio))) < 0.015
