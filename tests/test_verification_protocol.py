"""Tests of the open-set verification protocol (gaitcnn.verification._protocol, _run, _cli)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitcnn.verification._protocol import (
    VerificationParams,
    cycle_stride,
    make_split,
    probe_groups,
    score_users,
)

#: Tiny embedding network (fast to train on a few hundred windows).
TINY_EMBEDDING = {"embedding_dim": 8, "filters": [4, 8], "n_pooled_blocks": 1}

#: Keys ``results.json`` must hold at top level (issue 14, item 3).
RESULT_KEYS = (
    "eer",
    "frr_at_far_1pct",
    "frr_at_far_0_1pct",
    "roc_auc",
    "open_set_rank1",
    "n_genuine",
    "n_impostor",
    "operating_point",
    "calibration",
    "by_fusion",
    "wall_time_s",
    "peak_memory",
    "n_params",
)


def _recordings(n_subjects: int):
    return [
        {"subject_id": s, "session": session}
        for s in range(100, 100 + n_subjects)
        for session in ("gallery", "probe")
    ]


class TestContractSplit:
    def test_disjoint_and_complete(self):
        split = make_split(_recordings(40), "ouisir", 40, train_share=0.7,
                           calibration_share=0.15, seed=3)  # fmt: skip
        parts = [set(split.train), set(split.calibration), set(split.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set().union(*parts) == set(range(100, 140))
        assert (len(parts[0]) + len(parts[1]), len(parts[2])) == (28, 12)

    def test_seeded(self):
        args = {"train_share": 0.7, "calibration_share": 0.15}
        a = make_split(_recordings(40), "ouisir", 40, seed=1, **args)
        b = make_split(_recordings(40), "ouisir", 40, seed=1, **args)
        c = make_split(_recordings(40), "ouisir", 40, seed=2, **args)
        assert a.to_dict() == b.to_dict() and a.to_dict() != c.to_dict()

    def test_subjects_without_a_later_walk_are_left_out(self):
        recs = [*_recordings(10), {"subject_id": 7, "session": "gallery"}]
        split = make_split(recs, "ouisir", 50, train_share=0.5, calibration_share=0.4, seed=0)
        assert 7 not in split.pool and len(split.pool) == 10

    def test_mcgill_first_day_is_the_gallery(self):
        recs = [{"subject_id": s, "session": f"day{d}"} for s in range(8) for d in (2, 1)]
        recs.append({"subject_id": 99, "session": "day1"})  # one day only: not usable
        split = make_split(recs, "mcgill", 8, train_share=0.5, calibration_share=0.5, seed=0)
        assert split.pool == list(range(8))

    def test_too_few_users_is_refused(self):
        with pytest.raises(ValueError, match="fewer than 2 users"):
            make_split(_recordings(4), "ouisir", 4, train_share=0.7, calibration_share=0.15,
                       seed=0)  # fmt: skip


class _Meta:
    """Cache metadata: 3 users, a gallery and a probe walk each, windows out of time order."""

    def __init__(self):
        self.recordings = [
            {"key": f"{s}/{x}/w", "subject_id": s, "session": x}
            for s in (1, 2, 3)
            for x in ("gallery", "probe")
        ]
        self.recording_index = np.repeat(np.arange(6), 2)
        self.starts = np.tile([4, 0], 6)
        self.subject_ids = np.repeat([1, 2, 3], 4)
        names = np.array([r["session"] for r in self.recordings], dtype=object)
        self.sessions = names[self.recording_index]


def test_probe_groups_and_scores():
    from gaitcnn.verification._protocol import eval_rows

    meta = _Meta()
    users = np.array([1, 2, 3])
    rows = eval_rows(meta, users)
    assert rows[:2].tolist() == [1, 0]  # time order within the walk
    gallery, (probes, probe_users) = probe_groups(meta, rows, users, "ouisir")
    assert sorted(gallery) == [1, 2, 3] and probe_users.tolist() == [1, 2, 3]
    embeddings = np.repeat(np.eye(3), 4, axis=0)  # each user its own direction
    scored = score_users(embeddings, gallery, probes, probe_users, every=1)
    np.testing.assert_allclose(scored["matrices"]["walk"], np.eye(3))
    assert scored["matrices"]["window"].shape == (6, 3)


def test_cycle_stride():
    assert cycle_stride("dense", 4) == 13 and cycle_stride("gggd", 0) == 1


def test_params_refuse_bad_values():
    with pytest.raises(ValueError, match="train_share must be in"):
        VerificationParams(train_share=1.5)
    with pytest.raises(ValueError, match="rows must be"):
        VerificationParams(rows=("nope",))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from gaitcnn.verification._run import run_verification

    tmp = tmp_path_factory.mktemp("verification")
    params = VerificationParams(n_subjects=16, epochs=2, seed=0, rows=("embedding",))
    results = run_verification(params, out_dir=tmp / "out", cache_dir=tmp / "cache",
                               n_simulated=16, hparams={"embedding": TINY_EMBEDDING})  # fmt: skip
    return tmp, results


@pytest.mark.tf
def test_tiny_end_to_end(tiny_run):
    tmp, results = tiny_run
    out = tmp / "out"
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["eer"] == pytest.approx(results["eer"])
    for key in RESULT_KEYS:
        assert key in on_disk, key
    assert set(on_disk["by_fusion"]) == {"window", "n1", "n3", "n5", "walk"}
    assert on_disk["simulated"] is True and 0.0 <= on_disk["eer"] <= 1.0
    assert on_disk["n_users"]["test"] == 5 and on_disk["n_genuine"] == 5
    assert on_disk["n_impostor"] == 20 and on_disk["n_failed_enrolment"] == 0
    assert (out / "det.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "rows" / "embedding" / "model.gaitcnn").exists()
    config = json.loads((out / "config.json").read_text())
    users = config["users"]
    assert not set(users["test"]) & (set(users["train"]) | set(users["calibration"]))


@pytest.mark.tf
def test_an_earlier_run_is_not_overwritten(tiny_run):
    from gaitcnn.verification._run import run_verification

    tmp, _ = tiny_run
    with pytest.raises(FileExistsError, match="earlier run"):
        run_verification(VerificationParams(n_subjects=16), out_dir=tmp / "out",
                         cache_dir=tmp / "cache", n_simulated=16)  # fmt: skip


def _cli(args):
    from click.testing import CliRunner

    from gaitcnn.cli import main
    from gaitcnn.verification._cli import verification_command

    if "verification" not in main.commands:
        main.add_command(verification_command, name="verification")
    return CliRunner().invoke(main, ["verification", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train-share", "1.5"], "--train-share"),
        (["--method", "bogus"], "--method"),
        (["--subjects", "2"], "--subjects"),
        (["--set", "foo.bar=1"], "--set takes"),
        (["--filename-pattern", "x"], "filename_pattern applies to dataset='mcgill'"),
    ],
)
def test_cli_refuses_bad_options_in_one_line(args, message):
    result = _cli(args)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.output


def test_cli_refuses_an_existing_out_without_overwrite(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    result = _cli(["--out", str(tmp_path)])
    assert result.exit_code == 2 and "pass --overwrite" in result.output


def test_filename_pattern_links_files_under_default_names(tmp_path):
    import shutil
    from pathlib import Path

    from gaitcnn.io import load_mcgill
    from gaitcnn.verification._run import _renamed_mcgill_root

    source = Path(__file__).parent / "data" / "mcgill"
    data = tmp_path / "phone"
    data.mkdir()
    shutil.copy(source / "subject01_day1.csv", data / "walker1-session1.csv")
    shutil.copy(source / "subject02_day1.tsv.gz", data / "walker2-session1.tsv.gz")
    pattern = r"walker(?P<subject>[0-9]+)-session(?P<day>[0-9]+)"
    root = _renamed_mcgill_root(data, pattern, tmp_path / "cache")
    assert sorted(p.name for p in root.iterdir()) == ["subject1_day1.csv", "subject2_day1.tsv.gz"]
    assert [(r.subject_id, r.session) for r in load_mcgill(root)] == [(1, "day1"), (2, "day1")]
    assert _renamed_mcgill_root(data, pattern, tmp_path / "cache") == root  # idempotent
    from gaitcnn.errors import GaitDataError

    with pytest.raises(GaitDataError, match="no McGill files found"):
        _renamed_mcgill_root(data, r"nomatch(?P<subject>\d)(?P<day>\d)", tmp_path / "cache")
