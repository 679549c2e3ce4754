"""Tests of the OU-ISIR labeling experiment (gaitcnn.labeling)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from gaitcnn.labeling import (
    METHODS,
    LabelingParams,
    cmc_from_ranks,
    draw_subjects,
    ranks_with_missing,
    sequence_decisions,
)

TINY = {"conv_filters": (4, 8, 8), "fl1_units": 16}


class TestContractDrawSubjects:
    def test_deterministic_sorted_unique(self):
        pool = np.arange(100, 150)
        a = draw_subjects(pool, 10, seed=3)
        np.testing.assert_array_equal(a, draw_subjects(pool, 10, seed=3))
        assert a.size == 10
        assert np.all(np.diff(a) > 0)
        assert set(a) <= set(pool)

    def test_seed_changes_draw(self):
        pool = np.arange(50)
        assert not np.array_equal(draw_subjects(pool, 10, 0), draw_subjects(pool, 10, 1))

    def test_nested_in_k(self):
        pool = np.arange(744)
        small, large = draw_subjects(pool, 100, 0), draw_subjects(pool, 600, 0)
        assert set(small) <= set(large)

    def test_k_larger_than_pool_gives_all(self):
        np.testing.assert_array_equal(draw_subjects([5, 3, 3, 9], 10, 0), [3, 5, 9])

    def test_bad_k(self):
        with pytest.raises(ValueError, match="k must be"):
            draw_subjects([1, 2], 0, 0)


class TestBehaviourSequenceFusion:
    def test_mean_over_sequence_and_missing(self):
        proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
        seq = np.array(["a", "b", "b", "a"], dtype=object)
        fused, n_used = sequence_decisions(proba, seq, ["a", "b", "c"])
        np.testing.assert_allclose(fused[0], [0.75, 0.25])
        np.testing.assert_allclose(fused[1], [0.25, 0.75])
        assert np.isnan(fused[2]).all()
        np.testing.assert_array_equal(n_used, [2, 2, 0])

    def test_first_n_images(self):
        proba = np.array([[0.9, 0.1], [0.0, 1.0], [0.0, 1.0]])
        seq = np.array(["a", "a", "a"], dtype=object)
        fused, n_used = sequence_decisions(proba, seq, ["a"], max_images=1)
        np.testing.assert_allclose(fused[0], [0.9, 0.1])
        assert n_used[0] == 1
        fused, n_used = sequence_decisions(proba, seq, ["a"], max_images=10)
        assert n_used[0] == 3

    def test_missing_sequence_is_an_error_at_every_rank(self):
        fused = np.array([[0.1, 0.9], [np.nan, np.nan]])
        ranks = ranks_with_missing(fused, np.array([1, 0]))
        np.testing.assert_array_equal(ranks, [1, 3])
        np.testing.assert_allclose(cmc_from_ranks(ranks, 2), [0.5, 0.5])


class TestContractParams:
    def test_unknown_method(self):
        with pytest.raises(ValueError, match="method must be one of"):
            LabelingParams(method="nope")

    def test_methods_map_to_prepare_params(self):
        assert LabelingParams(method="method1").prepare_params().segmentation == "overlap"
        assert LabelingParams(method="method2").prepare_params().representation == "gdi"
        prep = LabelingParams(method="proposed").prepare_params()
        assert prep.channels == ("acc", "gyr")
        assert prep.image_shape == (32, 64, 2)
        assert METHODS["method3"].model == "tcnn"
        assert METHODS["inception"].model == "inception"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from gaitcnn.labeling import run_labeling

    tmp = tmp_path_factory.mktemp("labeling")
    params = LabelingParams(n_subjects=4, epochs=1, seed=1, model_hparams=TINY)
    results = run_labeling(params, out_dir=tmp / "out", cache_dir=tmp / "cache", n_simulated=6)
    return tmp, results


@pytest.mark.tf
class TestLabelingEndToEnd:
    def test_outputs(self, small_run):
        tmp, _ = small_run
        out = tmp / "out"
        for name in ("results.json", "config.json", "sequences.csv", "probe_proba.npz"):
            assert (out / name).exists(), name
        on_disk = json.loads((out / "results.json").read_text())
        assert on_disk["data"] == "simulated"
        assert on_disk["n_subjects"] == 4
        assert on_disk["n_probe_sequences"] == 4
        for key in ("accuracy", "top5", "cmc", "wall_time_s", "peak_memory", "params"):
            assert key in on_disk
        assert on_disk["multiply_adds"] > 0
        assert len(on_disk["cmc"]) == 4
        assert on_disk["cmc"][-1] == pytest.approx(
            1 - on_disk["n_probe_sequences_without_images"] / 4
        )
        config = json.loads((out / "config.json").read_text())
        assert len(config["subjects"]) == 4

    def test_accuracy_is_computed_from_predictions(self, small_run):
        tmp, res = small_run
        with (tmp / "out" / "sequences.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        flags = [int(r["correct"]) for r in rows]
        assert res["accuracy"] == pytest.approx(np.mean(flags))
        # Recompute the decisions from the saved per-image softmax outputs.
        saved = np.load(tmp / "out" / "probe_proba.npz")
        for row in rows:
            mask = saved["sequence"] == row["sequence"]
            if int(row["n_images"]) == 0:
                assert not mask.any()
                assert row["correct"] == "0"
                continue
            predicted = int(np.argmax(saved["proba"][mask].mean(axis=0)))
            assert predicted == int(row["predicted_class"])
            assert int(row["correct"]) == int(predicted == int(row["true_class"]))

    def test_cli_uses_all_subjects_when_k_too_large(self, small_run):
        from click.testing import CliRunner

        from gaitcnn.labeling import labeling_command

        tmp, _ = small_run
        # A data root in the real format (6 simulated subjects), passed as if it were real.
        root = next((tmp / "cache").glob("simulated-ouisir-n6-seed0"))
        result = CliRunner().invoke(
            labeling_command,
            [
                "--subjects", "50", "--data-root", str(root), "--epochs", "1",
                "--out", str(tmp / "cli"), "--cache-dir", str(tmp / "cache"), "--verbose", "0",
                "--set", "conv_filters=[4,8,8]", "--set", "fl1_units=16",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        res = json.loads((tmp / "cli" / "results.json").read_text())
        assert res["n_subjects"] == 6
        assert res["n_subjects_requested"] == 50
        assert "exceeds" in res["notes"][0]
        assert res["data"] == str(root.resolve())
        assert res["model_hparams"]["fl1_units"] == 16


# ---- presets (beyond the paper) ---------------------------------------------------------------

#: LabelingParams.to_dict() keys of the paper preset, before the presets existed: stored run
#: keys (experiments.table_2) stay valid.
PAPER_PARAM_KEYS = {
    "n_subjects", "method", "subset", "sensor", "epochs", "seed", "edge", "model_hparams",
    "batch_size",
}  # fmt: skip


class TestContractPresets:
    def test_paper_preset_is_the_default_and_keeps_its_keys(self):
        paper = LabelingParams.from_preset("paper")
        assert paper == LabelingParams()
        assert set(paper.to_dict()) == PAPER_PARAM_KEYS
        prep = paper.prepare_params()
        assert (prep.segmentation, prep.edge, paper.model_name) == ("gggd", "strict", "paper_cnn")

    def test_improved_preset_fields(self):
        from gaitcnn.labeling import IMPROVED_LABELING

        improved = LabelingParams.from_preset("improved", n_subjects=10)
        assert improved.preset == "improved" and improved.n_subjects == 10
        for key, value in IMPROVED_LABELING.items():
            assert getattr(improved, key) == value
        prep = improved.prepare_params()
        assert prep.segmentation == "dense" and prep.edge == "pad"
        assert prep.dense_step == IMPROVED_LABELING["dense_step"]
        assert improved.model_name == "raw_cnn" and prep.representation == "raw"
        assert prep.image_shape == (1, 64, 8)  # ax ay az gx gy gz |a| |w|
        assert improved.to_dict()["preset"] == "improved"
        # explicit values win over the preset
        assert LabelingParams.from_preset("improved", epochs=3).epochs == 3

    def test_channel_and_width_overrides_reach_the_images(self):
        norms = ("acc", "gyr", "acc_mag", "gyr_mag")
        assert LabelingParams(channels=norms).prepare_params().image_shape == (32, 64, 4)
        wide = LabelingParams.from_preset("improved", width=128).prepare_params()
        assert wide.image_shape == (1, 128, 8) and wide.segmentation == "dense"
        gdi_like = LabelingParams.from_preset("improved", representation="ae_gdi", width=128)
        assert gdi_like.prepare_params().image_shape == (32, 128, 4)

    def test_bad_values(self):
        with pytest.raises(ValueError, match="preset"):
            LabelingParams.from_preset("best")
        with pytest.raises(ValueError, match="fusion"):
            LabelingParams(fusion="vote")
        with pytest.raises(ValueError, match="model"):
            LabelingParams(model="resnet")

    def test_mean_log_proba_fusion(self):
        proba = np.array([[0.9, 0.1], [0.01, 0.99], [0.6, 0.4]])
        seq = np.array(["a", "a", "a"], dtype=object)
        mean, _ = sequence_decisions(proba, seq, ["a"])
        log, _ = sequence_decisions(proba, seq, ["a"], fusion="mean_log_proba")
        geometric = np.exp(np.log(proba).mean(axis=0))
        np.testing.assert_allclose(log[0], geometric / geometric.sum())
        assert np.argmax(mean[0]) == 0 and np.argmax(log[0]) == 1  # a confident image dominates
        with pytest.raises(ValueError, match="fusion"):
            sequence_decisions(proba, seq, ["a"], fusion="vote")

    def test_help_shows_the_preset(self):
        from click.testing import CliRunner

        from gaitcnn.labeling import labeling_command

        result = CliRunner().invoke(labeling_command, ["--help"])
        assert result.exit_code == 0
        assert "--preset [paper|improved]" in result.output


@pytest.mark.tf
def test_improved_preset_end_to_end(small_run):
    """``--preset improved`` on the 6-subject simulated set, one epoch of a tiny raw-window CNN."""
    from click.testing import CliRunner

    from gaitcnn.labeling import labeling_command

    tmp, _ = small_run
    root = next((tmp / "cache").glob("simulated-ouisir-n6-seed0"))
    out = tmp / "improved"
    result = CliRunner().invoke(
        labeling_command,
        [
            "--preset", "improved", "--subjects", "4", "--data-root", str(root),
            "--epochs", "1", "--out", str(out), "--cache-dir", str(tmp / "cache"),
            "--verbose", "0", "--set", "filters=[4,8]",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    assert res["preset"] == "improved" and res["model"] == "raw_cnn"
    assert res["fusion"] == "mean_proba"  # the log-probability fusion was not adopted
    assert set(res["accuracy_by_fusion"]) == {"mean_proba", "mean_log_proba"}
    assert res["accuracy"] == res["accuracy_by_fusion"]["mean_proba"]
    # dense images: many per walk, none of the probe sequences without images
    assert res["mean_images_per_probe_sequence"] > 10
    assert res["n_probe_sequences_without_images"] == 0
    config = json.loads((out / "config.json").read_text())
    assert config["prepare"]["segmentation"] == "dense"
    assert config["train"]["lr_schedule"] == "cosine"
    assert config["labeling"]["preset"] == "improved"
    # the channel statistics of the training windows travel inside the model
    import keras

    from gaitcnn.cache import read_image_set

    model = keras.models.load_model(out / "train" / "final.keras")
    norm = model.get_layer("normalization")
    images = read_image_set(Path(res["image_cache"]))
    gallery = images.images[images.sessions == "gallery"]
    assert gallery.shape[1:] == (1, 64, 8)
    assert res["model_hparams"]["channel_mean"] == pytest.approx(
        [float(v) for v in norm.mean.numpy().ravel()], rel=1e-5
    )
    # column 6 of a raw window is |a| of columns 0-2
    np.testing.assert_allclose(
        gallery[:, 0, :, 6], np.linalg.norm(gallery[:, 0, :, :3], axis=-1), rtol=1e-5
    )
