"""StreamingVerifier on a GaitModel: the same window scores and fused score as the batch path.

The batch path is ``cosine(model.embed(recording), template)`` per window and
:meth:`gaitcnn.GaitModel.score` for the walk. The stream resamples incrementally (~1e-12 of
the batch resampling), cuts the same dense windows and embeds them in chunks; the only
difference by design is that it skips windows without gait (:func:`gaitcnn.stream.
gait_window_mask`), which the batch path scores - every window of a simulated walk is gait,
which the test checks, so the two must agree to float32 round-off.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from _tiny_verification import USER, tiny_verification_model

from gaitcnn.prepare import images_for_recording
from gaitcnn.stream import StreamingVerifier, gait_window_mask
from gaitcnn.verification import cosine_matrix

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return tiny_verification_model(tmp_path_factory.mktemp("sim"))


def _push_in_random_chunks(verifier, recording, seed):
    rng = np.random.default_rng(seed)
    t, acc, gyr = recording.timestamps_s, recording.acc, recording.gyr
    start = 0
    while start < t.size:
        stop = start + int(rng.integers(1, 120))
        verifier.push(t[start:stop], acc[start:stop], gyr[start:stop])
        start = stop
    verifier.finish()
    return verifier


@pytest.mark.parametrize("which", ["genuine", "impostor"])
def test_stream_scores_equal_the_batch_path(fitted, which):
    model, genuine, impostor = fitted
    probe = genuine if which == "genuine" else impostor
    template = model.store.template(USER)
    verifier = _push_in_random_chunks(StreamingVerifier(model, template), probe, seed=len(which))

    ((_, images, starts),) = images_for_recording(probe, model.front_end())  # one segment
    assert gait_window_mask(images[:, 0, :, 0:3]).all()  # so the stream skips none of them
    expected = cosine_matrix(model.embed(probe), template).max(axis=1)
    assert verifier.n_skipped_windows == 0
    assert [s.start for s in verifier.scores] == starts.tolist()
    np.testing.assert_allclose([s.score for s in verifier.scores], expected, rtol=0, atol=1e-5)
    decision = verifier.decision
    assert decision.score == pytest.approx(model.score(USER, probe), abs=1e-5)
    assert decision.threshold == model.threshold_ and decision.n_windows == starts.size
    # Not compared: accepted vs model.verify. The probes calibrated the threshold, which sits
    # within ~1e-9 of an impostor's score - closer than the two paths' round-off.


def test_from_model_uses_the_store_and_the_threshold(fitted):
    model = fitted[0]
    verifier = StreamingVerifier.from_model(model, USER, threshold=0.25)
    np.testing.assert_array_equal(verifier.template, model.store.template(USER))
    assert verifier.threshold == 0.25 and verifier.channels == model.channels_


def test_settings_that_contradict_the_model_are_refused(fitted):
    model, _, _ = fitted
    with pytest.raises(ValueError, match="width are set by the model's front end"):
        StreamingVerifier(model, model.store.template(USER), width=32)
    with pytest.raises(TypeError, match="callable windows -> embeddings or a fitted GaitModel"):
        StreamingVerifier("model.gaitcnn", np.ones((1, 8)), 0.5)
    with pytest.raises(ValueError, match="threshold is required"):
        StreamingVerifier(lambda w: w, np.ones((1, 8)))
