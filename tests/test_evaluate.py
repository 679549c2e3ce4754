"""Tests for gaitcnn.evaluate: metrics on hand-computed cases, fusion, evaluate(), tables."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from gaitcnn.evaluate import (
    binary_metrics,
    equal_error_rate,
    evaluate,
    format_table,
    fuse_by_sequence,
    fuse_consecutive,
    identification_metrics,
    predict_proba,
    roc_auc,
    roc_curve,
)
from gaitcnn.fusion import class_ranks as true_class_ranks


class FakeModel:
    """Stands in for a Keras model: ``predict`` returns fixed probabilities."""

    def __init__(self, proba):
        self.proba = np.asarray(proba, np.float32)
        self.calls = 0

    def predict(self, images, batch_size=None, verbose=0):
        self.calls += 1
        return self.proba[: len(images)]


def brute_force_auc(scores, y_true):
    pos = [s for s, y in zip(scores, y_true, strict=True) if y == 1]
    neg = [s for s, y in zip(scores, y_true, strict=True) if y == 0]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


# ---------------------------------------------------------------------------------------------
class TestContractEvaluate:
    def test_metrics_module_does_not_import_tensorflow(self):
        code = "import sys, gaitcnn.evaluate; sys.exit('tensorflow' in sys.modules)"
        assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0

    def test_inputs_not_mutated(self):
        scores = np.array([0.9, 0.1, 0.5])
        labels = np.array([1, 0, 1])
        before = scores.copy(), labels.copy()
        binary_metrics(scores, labels)
        assert np.array_equal(scores, before[0]) and np.array_equal(labels, before[1])

    @pytest.mark.parametrize(
        ("scores", "labels"),
        [([0.1, 0.2], [1]), ([0.1, np.nan], [1, 0]), ([0.1, 0.2], [1, 2])],
    )
    def test_binary_validation(self, scores, labels):
        with pytest.raises(ValueError):
            binary_metrics(scores, labels)

    def test_identification_validation(self):
        with pytest.raises(ValueError, match="class indices"):
            identification_metrics(np.eye(3), np.array([0, 1, 3]))
        with pytest.raises(ValueError, match="integer"):
            identification_metrics(np.eye(3), np.array([0.0, 1.0, 2.0]))

    def test_fusion_validation(self):
        with pytest.raises(ValueError, match="n must be"):
            fuse_consecutive(np.eye(3), [0, 0, 0], 0)
        with pytest.raises(ValueError, match="group_ids"):
            fuse_consecutive(np.eye(3), [0, 0], 1)

    def test_plain_python_types(self):
        result = binary_metrics([0.9, 0.2], [1, 0])
        assert all(type(v) in (int, float) for v in result.values())
        result = identification_metrics(np.eye(3), np.arange(3))
        assert isinstance(result["cmc"], list)
        assert all(type(v) is float for v in result["cmc"])


# ---------------------------------------------------------------------------------------------
class TestBinaryMetricsBehaviour:
    def test_perfect(self):
        m = binary_metrics([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])
        assert (m["accuracy"], m["precision"], m["recall"]) == (1.0, 1.0, 1.0)
        assert (m["eer"], m["auc"], m["far"], m["frr"]) == (0.0, 1.0, 0.0, 0.0)
        assert (m["n_positive"], m["n_negative"]) == (2, 2)

    def test_inverted(self):
        m = binary_metrics([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])
        assert (m["accuracy"], m["precision"], m["recall"]) == (0.0, 0.0, 0.0)
        assert (m["eer"], m["auc"]) == (1.0, 0.0)

    def test_uninformative_ties(self):
        m = binary_metrics([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])
        # 0.5 is not > 0.5: everything is rejected.
        assert (m["accuracy"], m["precision"], m["recall"]) == (0.5, 0.0, 0.0)
        assert (m["eer"], m["auc"]) == (0.5, 0.5)

    def test_hand_computed_case(self):
        # positives 0.9, 0.8, 0.4; negatives 0.7, 0.3, 0.2
        scores = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2]
        labels = [1, 1, 1, 0, 0, 0]
        m = binary_metrics(scores, labels)
        # accepted: 0.9, 0.8 (TP) and 0.7 (FP); 0.4 is a false reject.
        assert m["accuracy"] == pytest.approx(4 / 6)
        assert m["precision"] == pytest.approx(2 / 3)
        assert m["recall"] == pytest.approx(2 / 3)
        assert m["far"] == pytest.approx(1 / 3) and m["frr"] == pytest.approx(1 / 3)
        # ROC point at threshold 0.7 has FAR = FRR = 1/3 exactly.
        assert m["eer"] == pytest.approx(1 / 3)
        # 8 of the 9 (positive, negative) pairs are ordered correctly.
        assert m["auc"] == pytest.approx(8 / 9)

    def test_eer_interpolates_between_roc_points(self):
        # ROC: (0, 0) -> (0, 1/2) at 0.9 -> (1/2, 1) at the tied 0.5 -> (1, 1).
        # FAR - FRR goes from -1/2 to +1/2 on the middle segment: EER at its midpoint, 1/4.
        scores, labels = [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]
        assert equal_error_rate(scores, labels) == pytest.approx(0.25)
        assert roc_auc(scores, labels) == pytest.approx(3.5 / 4)

    def test_roc_curve_ties_form_one_point(self):
        fpr, tpr, thresholds = roc_curve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])
        assert np.allclose(fpr, [0, 0, 0.5, 1])
        assert np.allclose(tpr, [0, 0.5, 1, 1])
        assert thresholds[0] == np.inf
        assert np.all(np.diff(thresholds) < 0)

    def test_auc_matches_pair_counting_with_ties(self):
        rng = np.random.default_rng(0)
        scores = rng.integers(0, 5, 60) / 4  # many ties
        labels = rng.integers(0, 2, 60)
        assert roc_auc(scores, labels) == pytest.approx(brute_force_auc(scores, labels))

    def test_auc_and_eer_invariant_to_monotone_transform(self):
        rng = np.random.default_rng(1)
        scores, labels = rng.random(50), rng.integers(0, 2, 50)
        assert roc_auc(scores, labels) == pytest.approx(roc_auc(scores**3, labels))
        assert equal_error_rate(scores, labels) == pytest.approx(
            equal_error_rate(np.exp(scores), labels)
        )

    def test_single_class_gives_nan(self):
        m = binary_metrics([0.9, 0.2], [1, 1])
        assert np.isnan(m["auc"]) and np.isnan(m["eer"])
        assert m["recall"] == 0.5


# ---------------------------------------------------------------------------------------------
class TestIdentificationBehaviour:
    def test_hand_computed(self):
        proba = np.array(
            [
                [0.7, 0.2, 0.1],  # true 0: rank 1
                [0.5, 0.3, 0.2],  # true 1: rank 2
                [0.6, 0.3, 0.1],  # true 2: rank 3
                [0.1, 0.1, 0.8],  # true 2: rank 1
            ]
        )
        y = np.array([0, 1, 2, 2])
        assert true_class_ranks(proba, y).tolist() == [1, 2, 3, 1]
        m = identification_metrics(proba, y, k=(1, 2, 5))
        assert m["accuracy"] == 0.5 and m["top_1"] == 0.5
        assert m["top_2"] == 0.75
        assert m["top_5"] == 1.0  # k beyond n_classes
        assert m["cmc"] == [0.5, 0.75, 1.0]
        assert m["mean_rank"] == pytest.approx(7 / 4)
        assert m["n_decisions"] == 4

    def test_ties_break_like_argmax(self):
        proba = np.full((3, 3), 1 / 3)
        y = np.array([0, 1, 2])
        assert true_class_ranks(proba, y).tolist() == [1, 2, 3]
        assert identification_metrics(proba, y)["accuracy"] == pytest.approx(
            np.mean(proba.argmax(axis=1) == y)
        )

    def test_cmc_monotone_and_ends_at_one(self):
        rng = np.random.default_rng(0)
        proba = rng.dirichlet(np.ones(10), size=200)
        y = rng.integers(0, 10, 200)
        cmc = np.array(identification_metrics(proba, y)["cmc"])
        assert cmc.shape == (10,)
        assert np.all(np.diff(cmc) >= 0)
        assert cmc[-1] == 1.0
        assert cmc[0] == pytest.approx(np.mean(proba.argmax(axis=1) == y))

    def test_perfect_and_inverted(self):
        proba = np.eye(4) * 0.7 + 0.075
        assert identification_metrics(proba, np.arange(4))["accuracy"] == 1.0
        worst = identification_metrics(1 - proba, np.arange(4))
        assert worst["accuracy"] == 0.0 and worst["cmc"][-2] == 0.0


# ---------------------------------------------------------------------------------------------
class TestFusionBehaviour:
    proba = np.array(
        [
            [1.0, 0.0],  # 0 a
            [0.0, 1.0],  # 1 a
            [0.5, 0.5],  # 2 a
            [0.2, 0.8],  # 3 b
            [0.4, 0.6],  # 4 b
            [0.9, 0.1],  # 5 a
            [0.3, 0.7],  # 6 b
        ]
    )
    groups = np.array(["a", "a", "a", "b", "b", "a", "b"])

    def test_consecutive(self):
        fused = fuse_consecutive(self.proba, self.groups, 2)
        # a: images 0,1,2,5 -> chunks (0,1), (2,5); b: 3,4,6 -> chunk (3,4), image 6 dropped
        assert fused.first_index.tolist() == [0, 2, 3]
        assert fused.group_ids.tolist() == ["a", "a", "b"]
        expected = [[0.5, 0.5], [0.7, 0.3], [0.3, 0.7]]
        assert np.allclose(fused.proba, expected)

    def test_consecutive_n1_is_identity_in_group_order(self):
        fused = fuse_consecutive(self.proba, self.groups, 1)
        assert fused.first_index.tolist() == [0, 1, 2, 5, 3, 4, 6]
        assert np.allclose(fused.proba, self.proba[fused.first_index])

    def test_consecutive_too_few_images(self):
        fused = fuse_consecutive(self.proba, self.groups, 5)
        assert fused.proba.shape == (0, 2)

    def test_by_sequence(self):
        fused = fuse_by_sequence(self.proba, self.groups)
        assert fused.group_ids.tolist() == ["a", "b"]
        assert fused.first_index.tolist() == [0, 3]
        assert np.allclose(fused.proba, [[0.6, 0.4], [0.3, 0.7]])
        assert np.allclose(fused.proba.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------------------------
class TestEvaluateBehaviour:
    def test_identification_per_image(self):
        proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
        images = np.zeros((3, 4, 4, 1), np.float32)
        m = evaluate(FakeModel(proba), (images, np.array([0, 1, 1])), k=(1, 2))
        assert m["accuracy"] == pytest.approx(2 / 3)
        assert m["top_2"] == 1.0
        assert (m["task"], m["fusion"], m["n_images"], m["n_decisions"]) == (
            "identification",
            "none",
            3,
            3,
        )

    def test_authentication_with_consecutive_fusion(self):
        proba = np.array([[0.6, 0.4], [0.2, 0.8], [0.9, 0.1], [0.7, 0.3]])
        images = np.zeros((4, 4, 4, 1), np.float32)
        labels = np.array([1, 1, 0, 0])
        m = evaluate(
            FakeModel(proba),
            (images, labels),
            task="authentication",
            fusion="consecutive",
            group_ids=np.array([0, 0, 1, 1]),
            n=2,
        )
        # genuine mean P(accept) = 0.6 > 0.5, impostor mean 0.2: both right
        assert m["accuracy"] == 1.0 and m["n_decisions"] == 2 and m["n"] == 2

    def test_sequence_fusion_rejects_mixed_labels(self):
        images = np.zeros((2, 4, 4, 1), np.float32)
        with pytest.raises(ValueError, match="mixes labels"):
            evaluate(
                FakeModel(np.eye(2)),
                (images, np.array([0, 1])),
                fusion="sequence",
                group_ids=np.array([7, 7]),
            )

    def test_predict_proba_with_plain_callable(self):
        def model(batch):
            return np.tile([0.25, 0.75], (len(batch), 1))

        proba = predict_proba(model, np.zeros((5, 2, 2, 1)), batch_size=2)
        assert proba.shape == (5, 2) and proba.dtype == np.float32

    @pytest.mark.tf
    def test_with_keras_model_and_dataset(self):
        tf = pytest.importorskip("tensorflow")
        import keras

        inputs = keras.Input((4, 4, 1))
        outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs))
        model = keras.Model(inputs, outputs)
        rng = np.random.default_rng(0)
        images = rng.random((10, 4, 4, 1), dtype=np.float32)
        labels = np.arange(10) % 3
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
        from_dataset = evaluate(model, dataset)
        from_arrays = evaluate(model, (images, labels))
        assert from_dataset == from_arrays
        proba = predict_proba(model, images)
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)


# ---------------------------------------------------------------------------------------------
def test_format_table():
    rows = [
        {"method": "AE-GDI", "accuracy": 0.78, "n": 100},
        {"method": "GDI|cos", "accuracy": float("nan"), "n": 744},
        {"method": "TCNN", "n": 5},
    ]
    table = format_table(rows, ["method", ("accuracy", "Acc."), "n"], float_format=".2f")
    assert table == (
        "| method | Acc. | n |\n"
        "|:---|---:|---:|\n"
        "| AE-GDI | 0.78 | 100 |\n"
        "| GDI\\|cos | nan | 744 |\n"
        "| TCNN |  | 5 |"
    )
    assert format_table(rows[:1]).splitlines()[0] == "| method | accuracy | n |"
