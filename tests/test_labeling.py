"""Tests of the OU-ISIR labeling protocol (gaitcnn.labeling)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from gaitcnn.labeling import LabelingParams, draw_subjects, make_split
from gaitcnn.orientation import auto_front_end
from gaitcnn.presets import IMPROVED, ModelConfig

TINY = {"conv_filters": (4, 8, 8), "fl1_units": 16}


class TestContractDrawSubjects:
    def test_deterministic_sorted_unique(self):
        pool = [5, 3, 3, 9, 1, 7]
        a, b = draw_subjects(pool, 3, seed=4), draw_subjects(pool, 3, seed=4)
        np.testing.assert_array_equal(a, b)
        assert list(a) == sorted(set(a)) and set(a) <= set(pool)

    def test_seed_changes_draw(self):
        pool = list(range(100))
        assert not np.array_equal(draw_subjects(pool, 10, 0), draw_subjects(pool, 10, 1))

    def test_nested_in_k(self):
        pool = list(range(744))
        small, large = draw_subjects(pool, 100, 3), draw_subjects(pool, 300, 3)
        assert set(small) <= set(large)

    def test_k_larger_than_pool_gives_all(self):
        assert draw_subjects([4, 2, 8], 10, 0).tolist() == [2, 4, 8]

    def test_bad_k(self):
        with pytest.raises(ValueError, match="k must"):
            draw_subjects([1, 2], 0, 0)


class _Meta:
    """The metadata of a tiny image cache: 3 subjects, gallery and probe walks."""

    def __init__(self):
        self.recordings = [
            {"key": f"{s}/{sess}/w", "subject_id": s, "session": sess}
            for s in (10, 20, 30)
            for sess in ("gallery", "probe")
            if not (s == 30 and sess == "probe")
        ]
        # recording index of each image; the probe images of 10 arrive out of time order
        self.recording_index = np.array([0, 0, 1, 1, 2, 3, 3, 4])
        self.starts = np.array([0, 4, 8, 0, 0, 0, 4, 0])
        self.subject_ids = np.array([10, 10, 10, 10, 20, 20, 20, 30])
        names = np.array([r["session"] for r in self.recordings], dtype=object)
        self.sessions = names[self.recording_index]


class TestContractSplit:
    def test_pool_rows_and_temporal_order(self):
        split = make_split(_Meta(), 5, seed=0)
        assert split.pool == [10, 20] and split.chosen.tolist() == [10, 20]
        assert split.gallery_rows.tolist() == [0, 1, 4]
        assert split.gallery_labels.tolist() == [0, 0, 1]
        assert split.probe_sequences == ["10/probe/w", "20/probe/w"]
        assert split.probe_rows.tolist() == [3, 2, 5, 6]  # walk, then start
        assert split.probe_owner.tolist() == [0, 0, 1, 1]
        assert split.probe_labels.tolist() == [0, 1] and split.classes_without_gallery == []

    def test_too_few_subjects(self):
        meta = _Meta()
        meta.recordings = meta.recordings[:2]
        with pytest.raises(ValueError, match=">= 2 subjects"):
            make_split(meta, 5, 0)


class TestContractParams:
    def test_paper_preset_is_the_default(self):
        paper = LabelingParams.from_preset("paper")
        assert paper == LabelingParams()
        prep = paper.prepare_params()
        assert (prep.segmentation, prep.edge, prep.channels) == ("gggd", "strict", ("acc", "gyr"))
        assert paper.model.network_name == "paper_cnn"

    def test_methods_map_to_their_front_end(self):
        for method, (representation, segmentation, network) in {
            "method1": ("ae_gdi", "overlap", "paper_cnn"),
            "method2": ("gdi", "gggd", "paper_cnn"),
            "method3": ("ae_gdi", "gggd", "tcnn"),
            "inception": ("ae_gdi", "gggd", "inception"),
        }.items():
            params = LabelingParams.from_preset(method=method)
            prep = params.prepare_params()
            assert (prep.representation, prep.segmentation) == (representation, segmentation)
            assert params.model.network_name == network

    def test_improved_preset_and_overrides(self):
        improved = LabelingParams.from_preset("improved", n_subjects=10, epochs=3)
        assert improved.model.preset == "improved" and improved.n_subjects == 10
        assert improved.model.epochs == 3  # explicit values win over the preset
        for key, value in IMPROVED.items():
            if key != "epochs":
                assert getattr(improved.model, key) == value
        prep = improved.prepare_params()
        assert prep.image_shape == (1, 64, 18)  # channels="auto": axes and invariant sets
        wide = LabelingParams.from_preset("improved", width=128).prepare_params()
        assert wide.image_shape == (1, 128, 18) and wide.segmentation == "dense"
        axes = LabelingParams.from_preset("improved", channels=("acc", "gyr", "acc_mag", "gyr_mag"))
        assert axes.model.channel_choice == "given"  # explicit channels replace "auto"
        assert axes.prepare_params().image_shape == (1, 64, 8)  # ax ay az gx gy gz |a| |w|

    def test_hparams_merge_over_the_presets_for_its_own_network_only(self):
        merged = ModelConfig.from_preset("improved", hparams={"kernel_size": 9})
        assert merged.hparams == {**IMPROVED["hparams"], "kernel_size": 9}
        assert ModelConfig.from_preset("improved", hparams={"n_pooled_blocks": 1}).hparams == {
            "n_pooled_blocks": 1
        }
        other = ModelConfig.from_preset("improved", network="embedding_cnn")
        assert other.hparams == {}
        assert ModelConfig.from_preset("improved", method="minirocket").hparams == {}
        assert ModelConfig.from_preset("verification").hparams == {}

    def test_channels_may_name_a_set(self):
        from gaitcnn.rawwindows import CHANNEL_SETS

        config = ModelConfig.from_preset("verification", channels="invariant")
        assert config.channels == CHANNEL_SETS["invariant"]
        with pytest.raises(ValueError, match="Received: channels='sideways'"):
            ModelConfig.from_preset("improved", channels="sideways")

    def test_seed_reaches_the_model_and_round_trips(self):
        params = LabelingParams.from_preset(seed=7, hparams=TINY)
        assert params.model.seed == 7
        values = params.to_dict()
        assert values["model"]["seed"] == 7 and values["model"]["hparams"]["fl1_units"] == 16
        assert ModelConfig.from_dict(values["model"]) == params.model

    def test_bad_values(self):
        with pytest.raises(ValueError, match="preset"):
            LabelingParams.from_preset("best")
        with pytest.raises(ValueError, match="fusion"):
            LabelingParams.from_preset(fusion="vote")
        with pytest.raises(ValueError, match="network"):
            LabelingParams.from_preset(network="resnet")
        with pytest.raises(ValueError, match="n_subjects"):
            LabelingParams(n_subjects=1)

    def test_help_reads_its_choices_from_the_registry(self):
        from click.testing import CliRunner

        from gaitcnn.labeling import labeling_command
        from gaitcnn.presets import PRESETS
        from gaitcnn.registry import method_names

        result = CliRunner().invoke(labeling_command, ["--help"])
        assert result.exit_code == 0
        assert f"--preset [{'|'.join(PRESETS)}]" in result.output
        assert f"--method [{'|'.join(method_names())}]" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from gaitcnn.labeling import run_labeling

    tmp = tmp_path_factory.mktemp("labeling")
    params = LabelingParams.from_preset(n_subjects=4, epochs=1, seed=1, hparams=TINY)
    results = run_labeling(params, out_dir=tmp / "out", cache_dir=tmp / "cache", n_simulated=6)
    return tmp, results


@pytest.mark.tf
class TestLabelingEndToEnd:
    def test_outputs(self, small_run):
        tmp, _ = small_run
        out = tmp / "out"
        for name in ("results.json", "config.json", "sequences.csv", "probe_scores.npz"):
            assert (out / name).exists(), name
        on_disk = json.loads((out / "results.json").read_text())
        assert on_disk["data"] == "simulated" and on_disk["channels"] == ["acc", "gyr"]
        assert on_disk["n_subjects"] == 4 and on_disk["n_probe_sequences"] == 4
        for key in ("accuracy", "top5", "cmc", "wall_time_s", "peak_memory", "params"):
            assert key in on_disk
        assert on_disk["multiply_adds"] > 0 and len(on_disk["cmc"]) == 4
        assert on_disk["cmc"][-1] == pytest.approx(
            1 - on_disk["n_probe_sequences_without_images"] / 4
        )
        assert len(json.loads((out / "config.json").read_text())["subjects"]) == 4

    def test_accuracy_is_computed_from_the_saved_window_scores(self, small_run):
        tmp, res = small_run
        with (tmp / "out" / "sequences.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        assert res["accuracy"] == pytest.approx(np.mean([int(r["correct"]) for r in rows]))
        saved = np.load(tmp / "out" / "probe_scores.npz")
        for row in rows:
            mask = saved["sequence"] == row["sequence"]
            if int(row["n_images"]) == 0:
                assert not mask.any() and row["correct"] == "0"
                continue
            predicted = int(np.argmax(saved["scores"][mask].mean(axis=0)))
            assert predicted == int(row["predicted_class"])
            assert int(row["correct"]) == int(predicted == int(row["true_class"]))

    def test_the_saved_model_gives_the_saved_scores(self, small_run):
        from gaitcnn import GaitModel
        from gaitcnn.cache import CacheRows, read_image_set

        tmp, res = small_run
        model = GaitModel.load(tmp / "out" / "model.gaitcnn")
        meta = read_image_set(res["image_cache"], load_images=False)
        split = make_split(meta, 4, seed=1)
        scores = model.window_scores(CacheRows(res["image_cache"], split.probe_rows))
        saved = np.load(tmp / "out" / "probe_scores.npz")["scores"]
        np.testing.assert_allclose(scores, saved, atol=1e-6)

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
        assert res["n_subjects"] == 6 and res["n_subjects_requested"] == 50
        assert "exceeds" in res["notes"][0]
        assert res["data"] == str(root.resolve())
        assert res["model_hparams"]["fl1_units"] == 16


@pytest.mark.tf
def test_improved_preset_end_to_end(small_run):
    """``--preset improved`` on the 6-subject simulated set, one epoch of a tiny raw-window CNN."""
    from click.testing import CliRunner

    from gaitcnn import GaitModel
    from gaitcnn.cache import read_image_set
    from gaitcnn.labeling import labeling_command

    tmp, _ = small_run
    root = next((tmp / "cache").glob("simulated-ouisir-n6-seed0"))
    out = tmp / "improved"
    result = CliRunner().invoke(
        labeling_command,
        [
            "--preset", "improved", "--subjects", "4", "--data-root", str(root),
            "--epochs", "1", "--out", str(out), "--cache-dir", str(tmp / "cache"),
            "--verbose", "0", "--set", "filters=[4,8]", "--set", "n_pooled_blocks=1",
            "--set", "partner.num_kernels=168",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    assert res["preset"] == "improved" and res["model"] == "raw_cnn"
    assert res["model_hparams"]["filters"] == [4, 8] and "partner" not in res["model_hparams"]
    assert res["fusion"] == "mean"  # the log-probability fusion was not adopted
    # a network with a MiniRocket partner: its window scores are standardised sums, not
    # probabilities, so there is no log-probability fusion to report
    assert "accuracy_by_fusion" not in res
    # channels="auto" on a belt IMU: the model read the axes and norms, and says so
    assert res["model_channels"] == ["acc", "gyr", "acc_mag", "gyr_mag"]
    assert res["gravity_spread_deg"] < 30.0
    # dense windows: many per walk, none of the probe sequences without windows
    assert res["mean_images_per_probe_sequence"] > 10
    assert res["n_probe_sequences_without_images"] == 0
    config = json.loads((out / "config.json").read_text())
    assert config["prepare"]["segmentation"] == "dense"
    assert config["train"]["lr_schedule"] == "cosine"
    assert config["labeling"]["model"]["preset"] == "improved"
    assert config["labeling"]["model"]["partner_hparams"] == {"num_kernels": 168}
    # the channel statistics of the training windows travel inside the saved model
    model = GaitModel.load(out / "model.gaitcnn")
    norm = model._backend.models[0].get_layer("normalization")
    images = read_image_set(res["image_cache"])
    gallery = images.images[images.sessions == "gallery"]
    assert gallery.shape[1:] == (1, 64, 18)  # both candidate sets; the model read 8 columns
    assert res["model_hparams"]["channel_mean"] == pytest.approx(
        [float(v) for v in norm.mean.numpy().ravel()], rel=1e-5
    )
    # column 6 of a raw window is |a| of columns 0-2
    np.testing.assert_allclose(
        gallery[:, 0, :, 6], np.linalg.norm(gallery[:, 0, :, :3], axis=-1), rtol=1e-5
    )


@pytest.mark.tf
def test_augment_rotate_end_to_end(small_run):
    """``--augment rotate`` trains, and results.json says so (label and field)."""
    from click.testing import CliRunner

    from gaitcnn.labeling import labeling_command

    tmp, _ = small_run
    root = next((tmp / "cache").glob("simulated-ouisir-n6-seed0"))
    out = tmp / "improved-rotate"
    result = CliRunner().invoke(
        labeling_command,
        [
            "--preset", "improved", "--subjects", "4", "--data-root", str(root),
            "--epochs", "1", "--out", str(out), "--cache-dir", str(tmp / "cache"),
            "--verbose", "0", "--set", "filters=[4,8]", "--set", "n_pooled_blocks=1",
            "--augment", "rotate",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    assert res["augment"] == "rotate"
    assert "augment=rotate" in res["method_label"]


@pytest.mark.tf
def test_evaluate_command_on_a_labeling_run(small_run):
    """``gaitcnn evaluate --model <labeling run>`` reloads the model and rescoring agrees."""
    from click.testing import CliRunner

    from gaitcnn.cli import main

    tmp, res = small_run
    result = CliRunner().invoke(main, ["evaluate", "--model", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((tmp / "out" / "evaluation.json").read_text())
    assert evaluation["run_kind"] == "labeling"
    with_images = res["n_probe_sequences"] - res["n_probe_sequences_without_images"]
    assert evaluation["n_probe_sequences"] == with_images
    # sequences without images are errors in the run, absent from the rescoring
    n_right = evaluation["per_sequence"]["accuracy"] * with_images
    assert n_right == pytest.approx(res["n_correct"])


# ---- phones without a gyroscope (issue 18) ----------------------------------------------------


@pytest.fixture(scope="module")
def android_root(tmp_path_factory):
    """6 simulated subjects whose manual subset also holds Android walks (zero gyroscope)."""
    from gaitcnn.prepare import ensure_simulated

    base = tmp_path_factory.mktemp("android")
    return base, ensure_simulated("ouisir", cache_dir=base, n_subjects=6, sensors=("android",))


@pytest.mark.tf
@pytest.mark.parametrize(
    ("preset", "hparams", "channels"),
    [
        ("paper", TINY, ["acc"]),
        ("improved", {"filters": [4, 8], "n_pooled_blocks": 1}, list(auto_front_end(False))),
    ],
)
def test_android_walks_use_the_acc_only_variant(android_root, preset, hparams, channels):
    from gaitcnn.labeling import run_labeling

    base, root = android_root
    params = LabelingParams.from_preset(
        preset, n_subjects=4, subset="manual", sensor="android", epochs=1, hparams=hparams
    )
    res = run_labeling(params, out_dir=base / f"out-{preset}", data_root=root, cache_dir=base)
    assert res["channels"] == channels
    config = json.loads((base / f"out-{preset}" / "config.json").read_text())
    assert config["prepare"]["channels"] == channels and config["prepare"]["sensor"] == "android"


def test_asking_for_a_gyroscope_on_android_walks_is_refused(android_root):
    from gaitcnn.errors import GaitDataError
    from gaitcnn.labeling import run_labeling

    base, root = android_root
    params = LabelingParams.from_preset(
        n_subjects=4, subset="manual", sensor="android", channels=("acc", "gyr")
    )
    with pytest.raises(GaitDataError, match=r"asks for a gyroscope.*Android"):
        run_labeling(params, out_dir=base / "refused", data_root=root, cache_dir=base)


def test_mixed_sensors_name_a_file_of_each_kind(android_root, tmp_path):
    import shutil

    from gaitcnn.errors import GaitDataError
    from gaitcnn.labeling import run_labeling

    _, root = android_root
    mixed = tmp_path / "ManualExtractionData" / "IMUZCenter"
    shutil.copytree(root / "ManualExtractionData" / "IMUZCenter", mixed)
    phone = sorted((root / "ManualExtractionData" / "Android").glob("*.csv"))[-1]
    shutil.copy(phone, mixed / phone.name)  # one centre walk replaced by a phone walk
    params = LabelingParams.from_preset(n_subjects=4, subset="manual")
    with pytest.raises(GaitDataError, match=rf"with a gyroscope.*without one.*{phone.name}"):
        run_labeling(params, out_dir=tmp_path / "out", data_root=tmp_path, cache_dir=tmp_path)
