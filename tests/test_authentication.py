"""Tests of gaitcnn.authentication: split construction, scoring, resume (no CNN training)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitcnn import authentication as auth
from gaitcnn.authentication import AuthConfig, spans_overlap
from gaitcnn.authentication import _run as auth_run

pytestmark = pytest.mark.tf  # make_split uses gaitcnn.pipeline, which imports TensorFlow

PERIOD = 50  # one cycle every 50 samples (1 s at 50 Hz)


def fake_metadata(n_subjects=4, n_cycles=(300, 200), gap_after=120):
    """Per-image metadata in cache order: per subject, day 1 then day 2; day 1 has two segments
    (a gap after ``gap_after`` cycles), day 2 one."""
    subject_ids, sessions, rec, starts, recordings = [], [], [], [], []
    for s in range(1, n_subjects + 1):
        for day, n in zip(("day1", "day2"), n_cycles, strict=True):
            cuts = [gap_after, n - gap_after] if day == "day1" else [n]
            for k, m in enumerate(cuts):
                recordings.append({"key": f"s{s}-{day}-{k}", "session": day, "subject_id": s})
                subject_ids += [s] * m
                sessions += [day] * m
                rec += [len(recordings) - 1] * m
                starts += list(40 + PERIOD * np.arange(m))
    return (
        np.array(subject_ids),
        np.array(sessions, dtype=object),
        np.array(rec),
        np.array(starts),
        recordings,
    )


def _split(subject=2, rep=0, **overrides):
    meta = fake_metadata()
    config = AuthConfig(**{"methods": ("cosine_gdi",), **overrides})
    return meta, auth.make_split(*meta[:4], subject, rep, config), config


class TestSpansOverlap:
    def test_hand_cases(self):
        rec = np.array([0, 0, 0, 1])
        starts = np.array([0, 100, 300, 100])
        # span [s - 10, s + 40): reach 50
        hit = spans_overlap([0], [1, 2, 3], rec, starts, 10, 40)
        assert hit.tolist() == [False, False, False]
        hit = spans_overlap([1], [0, 2, 3], rec, np.array([0, 60, 300, 60]), 10, 40)
        assert hit.tolist() == [False, False, False]
        hit = spans_overlap([1], [0, 3], rec, np.array([0, 49, 300, 49]), 10, 40)
        assert hit.tolist() == [True, False]  # other recording never overlaps

    def test_empty(self):
        assert spans_overlap([], [1], np.zeros(2, int), np.zeros(2, int), 1, 1).tolist() == [False]


class TestSplitBehaviour:
    def test_training_share_and_balance(self):
        (sid, sess, _rec, _starts, _), split, _ = _split(validation_fraction=0.0)
        assert split.val_idx.size == 0
        pos = split.train_idx[split.train_labels == 1]
        neg = split.train_idx[split.train_labels == 0]
        assert pos.size == round(0.1 * 300) == neg.size  # balanced negatives
        assert set(sid[pos]) == {2} and set(sess[pos]) == {"day1"}
        assert set(sid[neg]) == {1, 3, 4} and set(sess[neg]) == {"day1"}  # every other subject

    def test_no_time_overlap_training_vs_same_day_probe(self):
        (_sid, _sess, rec, starts, _), split, config = _split()
        training = np.concatenate([split.train_idx, split.val_idx])
        assert split.same_idx is not None
        assert not np.intersect1d(training, split.same_idx).size
        hit = spans_overlap(
            training, split.same_idx, rec, starts, config.guard_before, config.guard_after
        )
        assert not hit.any()
        # validation never shares samples with training either
        hit = spans_overlap(
            split.val_idx, split.train_idx, rec, starts, config.guard_before, config.guard_after
        )
        assert not hit.any()

    def test_same_day_probe_equal_quantity_and_balanced(self):
        (sid, sess, _rec, _starts, _), split, _ = _split(validation_fraction=0.0)
        n_train_pos = int(split.train_labels.sum())
        assert int(split.same_labels.sum()) == n_train_pos
        assert int((split.same_labels == 0).sum()) == n_train_pos
        assert set(sess[split.same_idx]) == {"day1"}
        assert set(sid[split.same_idx[split.same_labels == 1]]) == {2}

    def test_different_day_probe_is_all_of_day_2_balanced(self):
        (sid, sess, _rec, _starts, _), split, _ = _split()
        genuine = split.diff_idx[split.diff_labels == 1]
        assert sorted(genuine) == sorted(np.flatnonzero((sid == 2) & (sess == "day2")))
        impostor = split.diff_idx[split.diff_labels == 0]
        assert impostor.size == genuine.size
        assert set(sess[impostor]) == {"day2"} and 2 not in set(sid[impostor])

    @pytest.mark.parametrize("probe", ["same", "diff"])
    def test_groups_are_consecutive_cycles_of_one_recording(self, probe):
        (sid, _sess, rec, _starts, _), split, _ = _split()
        idx, groups = getattr(split, f"{probe}_idx"), getattr(split, f"{probe}_groups")
        for g in np.unique(groups):
            members = idx[groups == g]
            assert np.all(np.diff(members) == 1), "a block must be consecutive cycles"
            assert np.unique(rec[members]).size == 1
            assert np.unique(sid[members]).size == 1

    def test_fused_decisions_do_not_overlap(self):
        from gaitcnn.evaluate import fuse_consecutive

        _, split, _ = _split()
        fused = fuse_consecutive(np.ones((split.same_idx.size, 2)) / 2, split.same_groups, 3)
        firsts = fused.first_index
        # every decision covers images first..first+2 of one group; none shared
        covered = np.concatenate([np.arange(f, f + 3) for f in firsts])
        assert np.unique(covered).size == covered.size
        assert all(np.unique(split.same_groups[np.arange(f, f + 3)]).size == 1 for f in firsts)

    def test_deterministic_and_rep_dependent(self):
        _, a, _ = _split(rep=0)
        _, b, _ = _split(rep=0)
        _, c, _ = _split(rep=1)
        assert np.array_equal(a.train_idx, b.train_idx)
        assert not np.array_equal(a.train_idx, c.train_idx)

    def test_full_share_skips_same_day_probe(self):
        _, split, _ = _split(train_share=1.0)
        assert split.same_idx is None
        assert int(split.train_labels.sum() + split.val_labels.sum()) <= 300


class TestScoring:
    def test_nn_scores_cosine_and_euclidean(self):
        gallery = np.array([[1.0, 0.0], [0.0, 1.0]])
        labels = np.array([1, 0])
        probe = np.array([[0.9, 0.1], [0.1, 0.9]])
        probe /= np.linalg.norm(probe, axis=1, keepdims=True)
        for metric in ("cosine", "euclidean"):
            s = auth.nn_scores(probe, gallery, labels, metric)
            assert s[0] > 0.5 > s[1]
            assert np.all((s >= 0) & (s <= 1))

    def test_score_probe_accuracy_is_mean_of_correct_flags(self):
        rng = np.random.default_rng(0)
        scores = rng.random(40)
        labels = np.repeat([1, 0], 20)
        groups = np.repeat(np.arange(4), 10)
        res = auth_run._score_probe(scores, labels, groups, (1, 2, 3, 5))
        for n, m in res.items():
            flags = np.array([int(c) for c in m["correct"]])
            assert m["accuracy"] == pytest.approx(flags.mean())
            assert len(flags) == 4 * (10 // int(n))
        assert res["1"]["accuracy"] == pytest.approx(np.mean((scores > 0.5) == labels))


def fake_image_set(n_subjects=3):
    from gaitcnn.cache import ImageSet

    sid, _sess, rec, starts, recordings = fake_metadata(n_subjects, (120, 80), gap_after=60)
    rng = np.random.default_rng(1)
    return ImageSet(
        images=np.zeros((sid.size, 2, 2, 1), np.float32),
        subject_ids=sid,
        recording_index=rec,
        starts=starts,
        recordings=recordings,
        params={"rate_hz": 50.0},
        attrs={},
    ), {"cosine_gdi": (rng.random((sid.size, 8)) + sid[:, None]).astype(np.float16)}


class TestResume:
    def test_finished_classifiers_are_skipped(self, tmp_path, monkeypatch):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=2)
        lines = []
        first = auth.run_authentication(
            image_set, config, tmp_path, features=feats, progress=lines.append
        )
        assert len(first) == 6 and len(lines) == 6
        files = sorted((tmp_path / "runs").glob("*.json"))
        assert len(files) == 6
        assert "ETA" in lines[0]
        # "interrupt": drop two records, then rerun with run_classifier counting its calls
        files[0].unlink()
        files[3].unlink()
        calls = []
        real = auth.run_classifier

        def counting(*args, **kwargs):
            calls.append(args[2:4])
            return real(*args, **kwargs)

        monkeypatch.setattr(auth_run, "run_classifier", counting)
        lines.clear()
        second = auth.run_authentication(
            image_set, config, tmp_path, features=feats, progress=lines.append
        )
        assert len(calls) == 2
        assert sum("skipped" in line for line in lines) == 4
        assert [r["results"] for r in second] == [r["results"] for r in first]

    def test_other_configuration_is_refused(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=1)
        auth.run_authentication(image_set, config, tmp_path, features=feats, progress=None)
        other = AuthConfig(methods=("cosine_gdi",), n_repetitions=1, block_len=5)
        with pytest.raises(ValueError, match="another configuration"):
            auth.run_authentication(image_set, other, tmp_path, features=feats, progress=None)

    def test_other_data_set_is_refused(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=1)
        auth.run_authentication(image_set, config, tmp_path, features=feats, progress=None)
        bigger, feats4 = fake_image_set(n_subjects=4)
        with pytest.raises(ValueError, match="another data set"):
            auth.run_authentication(bigger, config, tmp_path, features=feats4, progress=None)

    def test_aggregate_mean_and_sd_over_repetitions(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=2)
        records = auth.run_authentication(
            image_set, config, tmp_path, features=feats, progress=None
        )
        rows = auth.aggregate(records, config)
        assert len(rows) == 1 * 2 * 4
        row = next(r for r in rows if r["probe"] == "different_day" and r["N"] == 1)
        per_rep = [
            np.mean(
                [
                    np.mean(
                        [
                            int(c)
                            for c in rec["results"]["cosine_gdi"]["different_day"]["1"]["correct"]
                        ]
                    )
                    for rec in records
                    if rec["rep"] == r
                ]
            )
            for r in (0, 1)
        ]
        assert row["accuracy_mean"] == pytest.approx(np.mean(per_rep))
        assert row["accuracy_sd"] == pytest.approx(np.std(per_rep, ddof=1))
        json.dumps(rows)  # serialisable


class TestCnnClassifier:
    """One classifier's CNN: a two-class GaitModel trained in memory (tiny network)."""

    @staticmethod
    def _image_set():
        image_set, _ = fake_image_set()
        rng = np.random.default_rng(0)
        genuine = (image_set.subject_ids == 1).astype(np.float32)
        images = rng.normal(0.0, 1.0, (len(image_set), 16, 16, 1)).astype(np.float32)
        images += genuine[:, None, None, None]
        return ImageSetWith(image_set, images)

    def _record(self, tmp_path, seed=0):
        config = AuthConfig(
            methods=("ae_gdi_cnn",), n_repetitions=1, seed=seed, subjects=(1,), train_share=0.5,
            train={"epochs": 3, "batch_size": 10},
            model={"conv_filters": (4, 4, 4), "fl1_units": 8},
        )  # fmt: skip
        return auth.run_classifier(self._image_set(), {}, 1, 0, config)

    def test_deterministic_and_best_epoch_kept(self, tmp_path):
        first, again = self._record(tmp_path), self._record(tmp_path)
        assert first["image_scores"] == again["image_scores"]
        assert first["n_validation"] > 0 and 1 <= first["best_epoch"] <= 3
        scores = np.array(first["image_scores"]["ae_gdi_cnn"]["different_day"])
        assert scores.size == first["n_probe"]["different_day"] and np.isfinite(scores).all()
        assert ((scores >= 0) & (scores <= 1)).all()

    def test_writes_nothing(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        self._record(tmp_path, seed=1)
        assert list(tmp_path.iterdir()) == []


def ImageSetWith(image_set, images):
    """``image_set`` with other image arrays (for the CNN, 16 x 16 images)."""
    import dataclasses

    return dataclasses.replace(image_set, images=images, params={"rate_hz": 50.0,
                                                                  "channels": ["acc"]})  # fmt: skip


class TestWorkers:
    def test_worker_processes_give_the_same_records(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=1)
        lines = []
        seq = auth.run_authentication(
            image_set, config, tmp_path / "a", features=feats, progress=None
        )
        par = auth.run_authentication(
            image_set, config, tmp_path / "b", features=feats, progress=lines.append, workers=2
        )
        assert [r["results"] for r in par] == [r["results"] for r in seq]
        assert [(r["subject"], r["rep"]) for r in par] == [(r["subject"], r["rep"]) for r in seq]
        assert len(lines) == 3 and all("ETA" in line for line in lines)
        assert len(list((tmp_path / "b" / "runs").glob("*.json"))) == 3

    def test_records_of_an_older_format_are_refused(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=1)
        auth.run_authentication(image_set, config, tmp_path, features=feats, progress=None)
        path = sorted((tmp_path / "runs").glob("*.json"))[0]
        record = json.loads(path.read_text())
        record["format_version"] = 1
        path.write_text(json.dumps(record))
        with pytest.raises(ValueError, match="another configuration or version"):
            auth.run_authentication(image_set, config, tmp_path, features=feats, progress=None)

    def test_image_scores_match_the_single_cycle_decisions(self, tmp_path):
        image_set, feats = fake_image_set()
        config = AuthConfig(methods=("cosine_gdi",), n_repetitions=1)
        (record, *_) = auth.run_authentication(
            image_set, config, tmp_path, features=feats, progress=None
        )
        for probe, m in record["results"]["cosine_gdi"].items():
            scores = np.array(record["image_scores"]["cosine_gdi"][probe])
            genuine = np.array([int(c) for c in m["1"]["genuine"]])
            correct = np.array([int(c) for c in m["1"]["correct"]])
            np.testing.assert_array_equal((scores > 0.5).astype(int) == genuine, correct == 1)


# ---- improved preset: dense images ---------------------------------------------------------


def dense_metadata(step=25, n_subjects=4, n_images=(700, 500)):
    """Like :func:`fake_metadata` but with an image every ``step`` samples (dense starts)."""
    subject_ids, sessions, rec, starts = [], [], [], []
    n_rec = 0
    for s in range(1, n_subjects + 1):
        for day, n in zip(("day1", "day2"), n_images, strict=True):
            subject_ids += [s] * n
            sessions += [day] * n
            rec += [n_rec] * n
            starts += list(step * np.arange(n))
            n_rec += 1
    return np.array(subject_ids), np.array(sessions, dtype=object), np.array(rec), np.array(starts)


class TestPresets:
    def test_paper_config_keys_and_no_preset_that_repeats_another(self):
        paper = AuthConfig.from_preset("paper")
        assert paper == AuthConfig()
        # fields added for the presets are left out of the paper's dict (stored records stay
        # valid)
        assert not {"network", "segmentation", "preset"} & set(paper.to_dict())
        # no preset is offered that trains the same classifiers as another one
        hashes = [AuthConfig.from_preset(name).classifier_hash() for name in auth.PRESETS]
        assert len(set(hashes)) == len(hashes)
        dense = AuthConfig(segmentation="dense", network="compact_cnn")
        assert dense.classifier_hash() != paper.classifier_hash()
        prep = dense.prepare_params()
        assert prep.segmentation == "dense" and prep.dense_step == 25 and prep.edge == "pad"
        assert paper.prepare_params().segmentation == "gggd"

    @pytest.mark.parametrize("rep", [0, 1])
    def test_dense_split_is_leakage_free(self, rep):
        sid, sess, rec, starts = dense_metadata()
        config = AuthConfig(segmentation="dense", methods=("ae_gdi_cnn",))
        split = auth.make_split(sid, sess, rec, starts, 2, rep, config)
        gb, ga = config.guard_before, config.guard_after
        training = np.concatenate([split.train_idx, split.val_idx])
        assert split.same_idx is not None and split.train_idx.size > 0
        # consecutive dense images overlap by far more than the guard, yet no probe image
        # shares a sample with any training or validation image
        assert not spans_overlap(training, split.same_idx, rec, starts, gb, ga).any()
        assert not spans_overlap(split.val_idx, split.train_idx, rec, starts, gb, ga).any()
        assert set(sess[split.diff_idx]) == {"day2"}
        assert set(sess[training]) == {"day1"}
        assert not np.intersect1d(training, split.same_idx).size

    def test_help_shows_the_preset(self):
        from click.testing import CliRunner

        result = CliRunner().invoke(auth.authenticate_command, ["--help"])
        assert result.exit_code == 0
        assert f"--preset [{'|'.join(auth.PRESETS)}]" in result.output


def test_evaluate_command_on_an_authentication_run(tmp_path):
    """``gaitcnn evaluate --model <authentication run>`` recomputes the table from the records."""
    from click.testing import CliRunner

    from gaitcnn.cli import main
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("mcgill", cache_dir=tmp_path, n_subjects=3, duration_s=90.0)
    out = tmp_path / "auth"
    args = ["authenticate", "--data-root", str(root), "--cache-dir", str(tmp_path)]
    args += ["--out", str(out), "--method", "cosine_gdi", "--set", "n_repetitions=1"]
    result = CliRunner().invoke(main, [*args, "--set", "train_share=0.5"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["evaluate", "--model", str(out)])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((out / "evaluation.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert evaluation["run_kind"] == "authentication" and evaluation["rows"] == summary["rows"]
    pooled = evaluation["pooled"]["cosine_gdi/different_day"]
    assert 0.0 <= pooled["eer"] <= 1.0 and pooled["n_scores"] > 0


def test_evaluate_command_on_something_else_names_the_folder(tmp_path):
    from click.testing import CliRunner

    from gaitcnn.cli import main

    result = CliRunner().invoke(main, ["evaluate", "--model", str(tmp_path)])
    assert result.exit_code == 2 and "is not a gaitcnn run" in result.output
