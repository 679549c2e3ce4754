"""Contract tests of every registered peer (gaitcnn.peers.PEERS), on tiny windows.

One parametrised suite checks the common interface (fit, decision_function, classes_,
n_params, model_size_bytes) and that ``to_arrays`` / ``from_arrays`` restore a fitted peer
without pickle, scoring bit-identically. Tests needing aeon skip without it.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from gaitcnn.peers import (
    AEON_MISSING_MESSAGE,
    PEERS,
    MiniRocketClassifier,
    MiniRocketPeer,
    PeerDependencyError,
    peer_from_arrays,
)

NAMES = sorted(PEERS)


def _windows(n_per_class: int, rng, *, n_classes: int = 3, n_timepoints: int = 40):
    """Fake 8-channel windows: class c oscillates at its own frequency and amplitude."""
    t = np.arange(n_timepoints) / 50.0
    windows, labels = [], []
    for c in range(n_classes):
        freq, amp = 0.8 + 0.5 * c, 1.0 + c
        for _ in range(n_per_class):
            phase = rng.uniform(0, 2 * np.pi)
            w = np.stack([amp * np.sin(2 * np.pi * freq * t + phase + k) for k in range(8)])
            w[2] += 9.81  # a gravity-like offset on one channel
            windows.append(w + 0.05 * rng.standard_normal(w.shape))
            labels.append(c)
    return np.asarray(windows, dtype=np.float32), np.asarray(labels)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    train = _windows(10, rng)
    test = _windows(4, rng)
    return train, test


@pytest.fixture(scope="module")
def fitted(data):
    pytest.importorskip("aeon")
    (x, y), _ = data
    return {name: PEERS[name](**PEERS[name].TEST_PARAMS).fit(x, y) for name in NAMES}


def _npz_round_trip(arrays: dict) -> dict:
    """Write with np.savez and read back with allow_pickle=False, as a saved model would."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def test_registry_names_and_classes():
    assert NAMES == ["minirocket", "multirocket", "rdst"]
    for name, cls in PEERS.items():
        assert cls.name == name
        assert cls.TEST_PARAMS  # a tiny configuration exists for each


def test_import_does_not_load_optional_or_heavy_modules():
    code = (
        "import sys, gaitcnn.peers, gaitcnn.peers.rdst, gaitcnn.peers._rocket\n"
        "heavy = ('aeon', 'numba', 'sklearn', 'tensorflow', 'keras')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", NAMES)
class TestContractPeer:
    def test_shapes_classes_and_sizes(self, name, fitted, data):
        peer = fitted[name]
        _, (x_test, y_test) = data
        scores = peer.decision_function(x_test)
        assert scores.shape == (len(x_test), 3)
        assert scores.dtype == np.float64
        np.testing.assert_array_equal(peer.classes_, [0, 1, 2])
        n_features = peer.features_.n_features_
        assert peer.n_params == 3 * n_features + 3
        assert peer.model_size_bytes() > 8 * peer.n_params  # float64 standardisation + ridge
        # the toy classes are easy: every peer must separate them
        np.testing.assert_array_equal(peer.predict(x_test), y_test)

    def test_empty_input_gives_empty_scores(self, name, fitted):
        peer = fitted[name]
        empty = np.zeros((0, 8, 40), np.float32)
        assert peer.decision_function(empty).shape == (0, 3)

    def test_wrong_window_shape_is_refused(self, name, fitted):
        with pytest.raises(ValueError, match=r"windows must have shape \(n, 8, 40\)"):
            fitted[name].decision_function(np.zeros((2, 7, 40), np.float32))

    def test_unfitted_is_refused(self, name):
        with pytest.raises(RuntimeError, match="not fitted"):
            PEERS[name]().decision_function(np.zeros((1, 8, 40), np.float32))

    def test_labels_must_match_windows(self, name, data):
        (x, y), _ = data
        with pytest.raises(ValueError, match="one entry per window"):
            PEERS[name](**PEERS[name].TEST_PARAMS).fit(x, y[:-1])
        with pytest.raises(ValueError, match="two distinct labels"):
            PEERS[name](**PEERS[name].TEST_PARAMS).fit(x[:5], y[:5])

    def test_seeded_and_global_rng_untouched(self, name, data, fitted):
        (x, y), (x_test, _) = data
        np.random.seed(7)  # noqa: NPY002
        expected = np.random.random()  # noqa: NPY002
        np.random.seed(7)  # noqa: NPY002
        again = PEERS[name](**PEERS[name].TEST_PARAMS).fit(x, y)
        assert np.random.random() == expected  # noqa: NPY002
        other = PEERS[name](**PEERS[name].TEST_PARAMS, seed=1).fit(x, y)
        reference = fitted[name].decision_function(x_test)
        np.testing.assert_array_equal(again.decision_function(x_test), reference)
        assert not np.allclose(other.decision_function(x_test), reference)


@pytest.mark.parametrize("name", NAMES)
class TestArraysRoundTrip:
    def test_restored_peer_scores_bit_identically(self, name, fitted, data):
        peer = fitted[name]
        _, (x_test, _) = data
        arrays = peer.to_arrays()
        assert all(a.dtype.kind in "biufU" for a in arrays.values())  # nothing needs pickle
        restored = peer_from_arrays(_npz_round_trip(arrays))
        assert type(restored) is type(peer)
        assert restored.get_params() == peer.get_params()
        np.testing.assert_array_equal(
            restored.decision_function(x_test), peer.decision_function(x_test)
        )
        np.testing.assert_array_equal(restored.classes_, peer.classes_)
        assert restored.n_params == peer.n_params
        assert restored.model_size_bytes() == peer.model_size_bytes()
        # the restored features are those of the fitted transform, not of a refit
        np.testing.assert_array_equal(
            restored.features_.transform(x_test), peer.features_.transform(x_test)
        )

    def test_every_fitted_aeon_attribute_is_stored(self, name, fitted):
        """A new fitted attribute in another aeon version must not be silently dropped."""
        features = fitted[name].features_
        fitted_attrs = {k for k in vars(features.transform_) if k.endswith("_")}
        fitted_attrs -= {"metadata_", "fit_time_millis_"}  # metadata_ is stored separately
        assert fitted_attrs <= set(features._state_names())
        restored = type(features).from_arrays(features.to_arrays())
        assert set(vars(features.transform_)) - {"fit_time_millis_"} <= set(
            vars(restored.transform_)
        )
        assert restored.transform_.metadata_ == features.transform_.metadata_

    def test_other_peer_and_missing_keys_are_refused(self, name, fitted):
        arrays = fitted[name].to_arrays()
        other = next(n for n in NAMES if n != name)
        with pytest.raises(ValueError, match=f"hold peer '{name}'"):
            PEERS[other].from_arrays(arrays)
        with pytest.raises(ValueError, match="lack"):
            peer_from_arrays({k: v for k, v in arrays.items() if k != "head/coef"})
        with pytest.raises(ValueError, match="unknown peer"):
            peer_from_arrays({**arrays, "peer": np.array("hydra")})
        with pytest.raises(ValueError, match="format_version"):
            peer_from_arrays({**arrays, "format_version": np.array(99)})


def test_string_labels_and_binary_problems(data):
    pytest.importorskip("aeon")
    (x, y), (x_test, y_test) = data
    names = np.array(["ann", "bob", "cy"])
    keep, keep_test = y < 2, y_test < 2
    peer = MiniRocketPeer(**MiniRocketPeer.TEST_PARAMS).fit(x[keep], names[y[keep]])
    scores = peer.decision_function(x_test[keep_test])
    assert scores.shape == (keep_test.sum(), 2)  # a binary ridge still gives one column per class
    np.testing.assert_array_equal(peer.classes_, ["ann", "bob"])
    np.testing.assert_array_equal(peer.predict(x_test[keep_test]), names[y_test[keep_test]])
    restored = peer_from_arrays(_npz_round_trip(peer.to_arrays()))
    np.testing.assert_array_equal(restored.decision_function(x_test[keep_test]), scores)
    np.testing.assert_array_equal(restored.classes_, ["ann", "bob"])


def test_minirocket_classifier_is_the_minirocket_member(data):
    pytest.importorskip("aeon")
    rng = np.random.default_rng(3)
    t = np.arange(150) / 50.0
    walks = [
        np.column_stack([(1 + c) * np.sin(2 * np.pi * (0.8 + 0.4 * c) * t + k) for k in range(4)])
        + 0.05 * rng.standard_normal((150, 4))
        for c in (0, 1, 0, 1)
    ]
    clf = MiniRocketClassifier(num_kernels=84, step_s=0.32).fit(walks, [0, 1, 0, 1])
    assert isinstance(clf.peer_, MiniRocketPeer)
    windows, _ = clf.windows_of(walks)
    restored = peer_from_arrays(_npz_round_trip(clf.peer_.to_arrays()))
    np.testing.assert_array_equal(restored.decision_function(windows), clf.window_scores(windows))


@pytest.mark.parametrize("name", NAMES)
def test_missing_aeon_gives_one_line_error(name, monkeypatch, data):
    for module in [m for m in sys.modules if m == "aeon" or m.startswith("aeon.")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "aeon", None)
    (x, y), _ = data
    with pytest.raises(PeerDependencyError) as info:
        PEERS[name](**PEERS[name].TEST_PARAMS).fit(x, y)
    assert str(info.value) == AEON_MISSING_MESSAGE
    assert "\n" not in str(info.value)


def test_other_aeon_version_warns(fitted):
    arrays = {**fitted["minirocket"].to_arrays(), "aeon_version": np.array("0.0.1")}
    with pytest.warns(UserWarning, match="stored with aeon 0.0.1"):
        peer_from_arrays(arrays)


def test_restoring_without_aeon_gives_one_line_error(fitted, monkeypatch):
    arrays = fitted["rdst"].to_arrays()
    for module in [m for m in sys.modules if m == "aeon" or m.startswith("aeon.")]:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(PeerDependencyError):
        peer_from_arrays(arrays)
