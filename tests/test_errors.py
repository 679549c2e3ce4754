"""Tests for gaitcnn.errors and the Recording contract."""

import numpy as np
import pytest

from gaitcnn.errors import GaitDataError
from gaitcnn.io import Recording


def test_gait_data_error_names_file_and_line():
    err = GaitDataError("expected 6 columns, found 5", path="x/a.csv", line=7)
    assert isinstance(err, ValueError)
    assert str(err) == "x/a.csv, line 7: expected 6 columns, found 5"
    assert (err.path, err.line) == ("x/a.csv", 7)


def test_gait_data_error_without_location():
    assert str(GaitDataError("bad")) == "bad"
    assert str(GaitDataError("bad", path="d")) == "d: bad"


def test_recording_validates_shapes():
    t = np.arange(10) / 50.0
    rec = Recording(
        subject_id="3",
        session="gallery",
        walk="seq0",
        timestamps_s=t,
        acc=np.zeros((10, 3)),
        source="mem",
    )
    assert rec.subject_id == 3 and rec.n_timepoints == 10 and not rec.has_gyr
    assert rec.key == "3/gallery/seq0"
    with pytest.raises(GaitDataError, match="acc must have shape"):
        Recording(subject_id=1, session="s", timestamps_s=t, acc=np.zeros((9, 3)), source="f.csv")
    with pytest.raises(GaitDataError, match="gyr must have shape"):
        Recording(
            subject_id=1, session="s", timestamps_s=t, acc=np.zeros((10, 3)), gyr=np.zeros((10, 2))
        )
