"""Tests of the MiniRocket peer baseline (gaitcnn.peers.minirocket).

The windowing, the split (pool, draw, probe keys equal to the CNN's) and the missing-aeon
message run without aeon; the transform, classifier and end-to-end tests skip without it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner

from gaitcnn.peers.minirocket import (
    AEON_MISSING_MESSAGE,
    PeerDependencyError,
    make_windows,
    require_aeon,
    signal_channels,
    window_starts,
)

# Smallest MiniRocket (84 kernels = 84 features): the tests check wiring, not accuracy.
TINY_KERNELS = 84


def _walk(n: int, freq_hz: float, amp: float, rng, rate_hz: float = 50.0) -> np.ndarray:
    """A fake 8-channel walk: sinusoids at a subject-specific frequency plus noise."""
    t = np.arange(n) / rate_hz
    acc = np.column_stack([amp * np.sin(2 * np.pi * freq_hz * t + k) for k in range(3)])
    acc[:, 2] += 9.81
    gyr = np.column_stack([0.5 * np.cos(2 * np.pi * freq_hz * t + k) for k in range(3)])
    acc += 0.05 * rng.standard_normal(acc.shape)
    return signal_channels(acc, gyr)


# --------------------------------------------------------------------------------------------
# Numpy-only parts
# --------------------------------------------------------------------------------------------


class TestContractWindows:
    def test_starts_cover_walk_with_step(self):
        starts = window_starts(300, 128, 8)
        assert starts[0] == 0
        assert np.all(np.diff(starts) == 8)
        assert starts[-1] + 128 <= 300 < starts[-1] + 8 + 128

    def test_short_walk_gives_one_edge_padded_window(self):
        series = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
        w = make_windows(series, 16, 4)
        assert w.shape == (1, 2, 16)
        np.testing.assert_array_equal(w[0, 0, :10], np.arange(10))
        np.testing.assert_array_equal(w[0, :, 10:], 9.0)  # last sample repeated

    def test_exact_length_walk_gives_one_unpadded_window(self):
        series = np.random.default_rng(0).standard_normal((16, 3))
        w = make_windows(series, 16, 4)
        np.testing.assert_allclose(w[0], series.T.astype(np.float32))

    def test_layout_and_content(self):
        series = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
        w = make_windows(series, 12, 5)
        assert w.shape == (len(window_starts(50, 12, 5)), 3, 12)
        assert w.dtype == np.float32
        np.testing.assert_array_equal(w[2], series[10:22].T)

    def test_explicit_starts_pad_past_end(self):
        series = np.arange(20, dtype=np.float32)[:, None]
        w = make_windows(series, 8, starts=[0, 15])
        np.testing.assert_array_equal(w[1, 0], [15, 16, 17, 18, 19, 19, 19, 19])

    @pytest.mark.parametrize("starts", [[-1], [20]])
    def test_bad_starts(self, starts):
        with pytest.raises(ValueError, match="starts must lie"):
            make_windows(np.zeros((20, 1)), 8, starts=starts)

    def test_bad_sizes(self):
        with pytest.raises(ValueError, match=">= 1"):
            window_starts(100, 0, 8)


class TestContractChannels:
    def test_eight_channels_with_gyro(self):
        rng = np.random.default_rng(0)
        acc, gyr = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
        out = signal_channels(acc, gyr)
        assert out.shape == (7, 8)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out[:, :3], acc, rtol=1e-6)
        np.testing.assert_allclose(out[:, 3:6], gyr, rtol=1e-6)
        np.testing.assert_allclose(out[:, 6], np.linalg.norm(acc, axis=1), rtol=1e-6)
        np.testing.assert_allclose(out[:, 7], np.linalg.norm(gyr, axis=1), rtol=1e-6)

    def test_four_channels_without_gyro(self):
        out = signal_channels(np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]))
        np.testing.assert_allclose(out, [[3, 4, 0, 5], [0, 0, 2, 2]])

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match="gyr must have"):
            signal_channels(np.zeros((5, 3)), np.zeros((4, 3)))


# --------------------------------------------------------------------------------------------
# The split equals the CNN's (numpy only: the image cache is built without TensorFlow)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ouisir12(tmp_path_factory):
    """12 simulated OU-ISIR subjects, the CNN's image cache of them, and its preparation."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.labeling import LabelingParams
    from gaitcnn.prepare import ensure_simulated, prepare_dataset

    base = tmp_path_factory.mktemp("peers")
    root = ensure_simulated("ouisir", cache_dir=base, n_subjects=12)
    prep = LabelingParams(n_subjects=5).prepare_params()
    cache = prepare_dataset(prep, root, cache_dir=base / "images", progress=False)
    return {
        "base": base,
        "root": root,
        "prep": prep,
        "images": read_image_set(cache, expected_params=prep.to_dict(), load_images=False),
    }


def _split_of(ouisir12, **model_fields):
    """The labeling split of the cache of a method's own front end."""
    from gaitcnn.cache import read_image_set
    from gaitcnn.labeling import LabelingParams, make_split
    from gaitcnn.prepare import prepare_dataset

    prep = LabelingParams.from_preset(n_subjects=5, **model_fields).prepare_params()
    base = ouisir12["base"]
    cache = prepare_dataset(prep, ouisir12["root"], cache_dir=base / "images", progress=False)
    meta = read_image_set(cache, expected_params=prep.to_dict(), load_images=False)
    return lambda k, seed: make_split(meta, k, seed)


class TestSplitMatchesCNN:
    @pytest.mark.parametrize(("k", "seed"), [(5, 0), (5, 3), (12, 1), (40, 0)])
    def test_pool_draw_and_probe_walks_do_not_depend_on_the_method(self, ouisir12, k, seed):
        cnn = _split_of(ouisir12)(k, seed)
        peer = _split_of(ouisir12, method="minirocket")(k, seed)
        assert peer.pool == cnn.pool
        np.testing.assert_array_equal(peer.chosen, cnn.chosen)
        assert peer.probe_sequences == cnn.probe_sequences
        np.testing.assert_array_equal(peer.probe_labels, cnn.probe_labels)
        assert peer.n_gallery_walks == cnn.chosen.size  # one gallery walk per drawn subject


# --------------------------------------------------------------------------------------------
# Missing aeon: a clear message, for library and command-line callers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_aeon(monkeypatch):
    for name in [m for m in sys.modules if m == "aeon" or m.startswith("aeon.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "aeon", None)
    monkeypatch.setitem(sys.modules, "aeon.transformations.collection.convolution_based", None)


class TestContractMissingAeon:
    def test_require_aeon_message(self, no_aeon):
        with pytest.raises(ImportError) as info:
            require_aeon()
        assert isinstance(info.value, PeerDependencyError)
        assert str(info.value) == AEON_MISSING_MESSAGE
        assert "pip install 'gaitcnn[peers]'" in str(info.value)

    def test_click_prints_message_not_traceback(self, no_aeon):
        @click.command()
        def cmd():
            require_aeon()

        result = CliRunner().invoke(cmd, [])
        assert result.exit_code == 1
        assert f"Error: {AEON_MISSING_MESSAGE}" in result.output
        assert "Traceback" not in result.output

    def test_run_fails_before_touching_data(self, no_aeon, tmp_path):
        from gaitcnn.labeling import LabelingParams, run_labeling

        params = LabelingParams.from_preset(n_subjects=2, method="minirocket")
        with pytest.raises(PeerDependencyError):
            run_labeling(params, out_dir=tmp_path, data_root=tmp_path / "missing")
        assert not (tmp_path / "results.json").exists()


def test_import_does_not_load_optional_or_heavy_modules():
    code = (
        "import sys, gaitcnn.peers, gaitcnn.peers.minirocket\n"
        "heavy = ('aeon', 'numba', 'sklearn', 'tensorflow', 'keras')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------------------------
# With aeon
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_walks():
    """3 subjects x 3 walks, each subject with its own step frequency and amplitude."""
    rng = np.random.default_rng(0)
    subjects = [(0.8, 1.0), (1.1, 2.0), (1.5, 3.0)]
    walks, labels = [], []
    for label, (freq, amp) in enumerate(subjects):
        for n in (200, 150, 60):  # the last is shorter than one window
            walks.append(_walk(n, freq, amp, rng))
            labels.append(label)
    return walks, np.array(labels)


def _fit(walks, labels, seed=0):
    from gaitcnn.peers.minirocket import MiniRocketClassifier

    return MiniRocketClassifier(
        window_s=1.28, step_s=0.32, num_kernels=TINY_KERNELS, seed=seed
    ).fit(walks, labels)


class TestMiniRocketClassifier:
    def test_fit_predict_and_shapes(self, toy_walks):
        pytest.importorskip("aeon")
        walks, labels = toy_walks
        train = [i for i in range(len(walks)) if i % 3 != 1]
        test = [i for i in range(len(walks)) if i % 3 == 1]
        clf = _fit([walks[i] for i in train], labels[train])
        summed = clf.decision_function_sequences([walks[i] for i in test])
        assert summed.shape == (len(test), 3)
        np.testing.assert_array_equal(clf.predict([walks[i] for i in test]), labels[test])
        n_features = clf.features_.n_features_
        assert n_features == TINY_KERNELS
        assert clf.n_params == 3 * n_features + 3
        assert clf.model_size_bytes() > 4 * clf.n_params

    def test_sequence_score_is_sum_of_window_scores(self, toy_walks):
        pytest.importorskip("aeon")
        walks, labels = toy_walks
        clf = _fit(walks, labels)
        windows = make_windows(walks[0], clf.window_samples, clf.step_samples)
        per_window = clf.window_scores(windows)
        np.testing.assert_allclose(
            clf.decision_function_sequences([walks[0]])[0], per_window.sum(axis=0), rtol=1e-10
        )
        first2 = clf.decision_function_sequences([walks[0]], max_windows=2)[0]
        np.testing.assert_allclose(first2, per_window[:2].sum(axis=0), rtol=1e-10)
        assert clf.decision_function_sequences([walks[2]]).shape == (1, 3)  # short walk

    def test_seeded_and_leaves_global_rng_alone(self, toy_walks):
        pytest.importorskip("aeon")
        walks, labels = toy_walks
        np.random.seed(123)  # noqa: NPY002
        expected_draw = np.random.random()  # noqa: NPY002
        np.random.seed(123)  # noqa: NPY002
        a = _fit(walks, labels, seed=5).decision_function_sequences(walks)
        assert np.random.random() == expected_draw  # noqa: NPY002
        b = _fit(walks, labels, seed=5).decision_function_sequences(walks)
        c = _fit(walks, labels, seed=6).decision_function_sequences(walks)
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)

    def test_binary_scores_have_two_columns(self, toy_walks):
        pytest.importorskip("aeon")
        walks, labels = toy_walks
        clf = _fit(walks[:6], labels[:6])
        scores = clf.decision_function_sequences(walks[:6])
        assert scores.shape == (6, 2)
        np.testing.assert_array_equal(clf.predict(walks[:6]), labels[:6])

    def test_large_training_sets_pick_alpha_on_a_subset(self, toy_walks):
        pytest.importorskip("aeon")
        from gaitcnn.peers.minirocket import RIDGE_ALPHAS, MiniRocketClassifier

        walks, labels = toy_walks
        kwargs = {"window_s": 1.28, "step_s": 0.32, "num_kernels": TINY_KERNELS, "seed": 0}
        full = MiniRocketClassifier(**kwargs).fit(walks, labels)
        sub = MiniRocketClassifier(**kwargs, max_loo_windows=12).fit(walks, labels)
        assert "all windows" in full.ridge_fit_ and "Cholesky" not in full.ridge_fit_
        assert "Cholesky" in sub.ridge_fit_
        assert sub.alpha_ in RIDGE_ALPHAS
        np.testing.assert_array_equal(sub.predict(walks), labels)
        # with the same penalty, the Cholesky fit is the ridge RidgeClassifierCV would fit
        same = MiniRocketClassifier(**{**kwargs, "alphas": (full.alpha_,)}, max_loo_windows=12)
        np.testing.assert_allclose(
            same.fit(walks, labels).decision_function_sequences(walks),
            full.decision_function_sequences(walks),
            rtol=1e-3,
            atol=1e-3,
        )

    def test_cholesky_fit_in_place_equals_the_fit_on_a_copy(self):
        """RidgeHead centres the standardised features in place (no copy): same ridge."""
        from sklearn.linear_model import RidgeClassifier

        from gaitcnn.peers._ridge import RidgeHead

        rng = np.random.default_rng(0)
        features = rng.normal(2.0, 3.0, (60, 90)).astype(np.float32)
        y = np.repeat([0, 1, 2], 20)
        head = RidgeHead(max_loo_windows=30).fit(features.copy(), y)
        assert "Cholesky" in head.fit_method_
        scaled = (features - head.mean_.astype(np.float32)) / head.scale_.astype(np.float32)
        reference = RidgeClassifier(alpha=head.alpha_, solver="cholesky").fit(scaled, y)
        np.testing.assert_allclose(head.coef_, reference.coef_, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(head.intercept_, reference.intercept_, rtol=1e-5, atol=1e-6)

    def test_single_class_rejected(self, toy_walks):
        pytest.importorskip("aeon")
        walks, labels = toy_walks
        with pytest.raises(ValueError, match="two distinct labels"):
            _fit(walks[:3], labels[:3])


class TestAuthenticationHelpers:
    def _image_set(self):
        from gaitcnn.cache import ImageSet
        from gaitcnn.io import Recording

        rng = np.random.default_rng(2)
        segments, recordings, rec_index, starts, subjects = {}, [], [], [], []
        for subject, freq in ((1, 0.9), (2, 1.4)):
            for day in ("day1", "day2"):
                n = 400
                t = np.arange(n) / 50.0
                acc = np.column_stack(
                    [
                        np.sin(2 * np.pi * freq * t + k) + 0.05 * rng.standard_normal(n)
                        for k in range(3)
                    ]
                )
                rec = Recording(subject_id=subject, session=day, walk=day, timestamps_s=t, acc=acc)
                segments[rec.key] = rec
                r = len(recordings)
                recordings.append({"key": rec.key, "subject_id": subject, "session": day})
                st = np.arange(0, n, 25)  # the last starts overrun the end: edge padding
                rec_index += [r] * st.size
                starts += st.tolist()
                subjects += [subject] * st.size
        image_set = ImageSet(
            images=np.zeros((0, 32, 64, 1), np.float32),
            subject_ids=np.array(subjects),
            recording_index=np.array(rec_index, dtype=np.int32),
            starts=np.array(starts),
            recordings=recordings,
            params={"rate_hz": 50.0},
            attrs={},
        )
        return image_set, segments

    def test_one_row_per_image_from_its_own_window(self):
        pytest.importorskip("aeon")
        from gaitcnn.peers.minirocket import minirocket_image_features

        image_set, segments = self._image_set()
        kwargs = {"window_s": 1.28, "seed": 0, "num_kernels": TINY_KERNELS, "n_fit_windows": 20}
        feats = minirocket_image_features(image_set, segments, **kwargs)
        assert feats.shape == (len(image_set), TINY_KERNELS)
        assert feats.dtype == np.float16
        assert np.isfinite(feats.astype(np.float32)).all()
        np.testing.assert_array_equal(
            feats, minirocket_image_features(image_set, segments, **kwargs)
        )
        # same start in a duplicated segment -> same row; other subject -> other row
        twin = image_set.recordings[0]["key"]
        dup_segments = {**segments, image_set.recordings[1]["key"]: segments[twin]}
        dup = minirocket_image_features(image_set, dup_segments, **kwargs)
        in0 = np.flatnonzero(image_set.recording_index == 0)
        in1 = np.flatnonzero(image_set.recording_index == 1)
        np.testing.assert_array_equal(dup[in0], dup[in1])
        assert not np.array_equal(feats[in0], feats[in1])

    @pytest.mark.parametrize("peer", ["multirocket", "rdst"])
    def test_every_peer_gives_image_features(self, peer):
        """``gaitcnn authenticate --method multirocket|rdst``: the same per-image rows."""
        pytest.importorskip("aeon")
        from gaitcnn.peers import PEERS
        from gaitcnn.peers.minirocket import peer_image_features

        image_set, segments = self._image_set()
        params = {k: v for k, v in PEERS[peer].TEST_PARAMS.items() if k != "alphas"}
        kwargs = {"window_s": 1.28, "seed": 0, "params": params, "n_fit_windows": 20}
        feats = peer_image_features(peer, image_set, segments, **kwargs)
        assert feats.shape[0] == len(image_set) and feats.shape[1] > 0
        assert np.isfinite(feats.astype(np.float32)).all()
        np.testing.assert_array_equal(feats, peer_image_features(peer, image_set, segments,
                                                                 **kwargs))  # fmt: skip

    def test_ridge_accept_scores(self):
        pytest.importorskip("aeon")
        from gaitcnn.peers.minirocket import ridge_accept_scores

        rng = np.random.default_rng(0)
        genuine = rng.normal(1.0, 0.3, (30, 20))
        impostor = rng.normal(-1.0, 0.3, (30, 20))
        x = np.vstack([genuine, impostor])
        y = np.r_[np.ones(30), np.zeros(30)].astype(int)
        probe = np.vstack([rng.normal(1.0, 0.3, (5, 20)), rng.normal(-1.0, 0.3, (5, 20))])
        s = ridge_accept_scores(x, y, probe)
        assert s.shape == (10,)
        assert np.all((s > 0) & (s < 1))
        np.testing.assert_array_equal(s > 0.5, [True] * 5 + [False] * 5)
        with pytest.raises(ValueError, match="both labels"):
            ridge_accept_scores(x[:30], y[:30], probe)


def test_minirocket_labeling_end_to_end(ouisir12, tmp_path):
    pytest.importorskip("aeon")
    from gaitcnn import GaitModel
    from gaitcnn.labeling import LabelingParams, run_labeling

    params = LabelingParams.from_preset(
        n_subjects=5, seed=0, method="minirocket", hparams={"num_kernels": TINY_KERNELS}
    )
    res = run_labeling(params, out_dir=tmp_path, cache_dir=ouisir12["base"], n_simulated=12)
    cnn = _split_of(ouisir12)(5, 0)
    assert res["method"] == "minirocket" and res["simulated"] is True
    assert res["n_subjects"] == 5 and res["n_probe_sequences"] == len(cnn.probe_sequences)
    assert res["n_probe_sequences_without_images"] == 0
    assert 0.0 <= res["accuracy"] <= res["top5"] <= 1.0
    assert res["params"] == 5 * TINY_KERNELS + 5
    assert res["model_size_bytes"] > 0
    assert set(res["accuracy_by_n"]) == {"1", "2", "3", "4", "5", "6"}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["subjects"] == cnn.chosen.tolist()
    rows = (tmp_path / "sequences.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == cnn.probe_sequences
    assert json.loads((tmp_path / "results.json").read_text())["accuracy"] == res["accuracy"]
    # the saved model is the peer that made these decisions
    assert GaitModel.load(tmp_path / "model.gaitcnn").config.method == "minirocket"


# --------------------------------------------------------------------------------------------
# Wiring: `--method minirocket` of both experiment commands
# --------------------------------------------------------------------------------------------


def test_label_cli_method_minirocket(ouisir12, tmp_path):
    pytest.importorskip("aeon")
    from click.testing import CliRunner

    from gaitcnn.labeling import labeling_command

    out = tmp_path / "run"
    args = ["--subjects", "5", "--method", "minirocket", "--data-root", str(ouisir12["root"])]
    args += ["--set", f"num_kernels={TINY_KERNELS}", "--cache-dir", str(ouisir12["base"])]
    result = CliRunner().invoke(labeling_command, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    assert res["method"] == "minirocket" and res["n_subjects"] == 5
    assert "MiniRocket" in result.output and f"accuracy {res['accuracy']:.3f}" in result.output
    chosen = _split_of(ouisir12)(5, 0).chosen
    assert json.loads((out / "config.json").read_text())["subjects"] == chosen.tolist()


def test_authenticate_cli_method_minirocket(tmp_path):
    pytest.importorskip("aeon")
    from click.testing import CliRunner

    from gaitcnn.authentication import authenticate_command
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=3, duration_s=90.0)
    out = tmp_path / "auth"
    args = ["--data-root", str(root), "--cache-dir", str(tmp_path), "--out", str(out)]
    args += ["--method", "minirocket", "--set", "n_repetitions=1", "--set", "train_share=0.5"]
    result = CliRunner().invoke(authenticate_command, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["methods"] == ["minirocket"]
    rows = [r for r in summary["rows"] if r["method"] == "minirocket"]
    assert {r["probe"] for r in rows} == {"different_day"} and {r["N"] for r in rows} == {
        1,
        2,
        3,
        5,
    }
    for row in rows:
        assert 0.0 <= row["accuracy_mean"] <= 1.0 and row["n_classifiers"] == 3
    records = sorted((out / "runs").glob("subject*_rep00.json"))
    assert len(records) == 3
    for path in records:
        record = json.loads(path.read_text())
        assert set(record["results"]) == {"minirocket"}
        n_probe = record["n_probe"]["different_day"]
        assert len(record["image_scores"]["minirocket"]["different_day"]) == n_probe
