"""Tests for gaitcnn.images: AE-GDI / GDI contracts, invariances, and the per-pixel reference."""

from __future__ import annotations

import numpy as np
import pytest
from _synthetic import load_reference_images, make_series, make_walk, random_rotation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitcnn.images import (
    ae_gdi,
    gdi,
    required_margins,
    stack_channels,
    valid_start_mask,
    valid_starts,
)

_reference = load_reference_images()
reference_ae_gdi, reference_gdi = _reference.reference_ae_gdi, _reference.reference_gdi

SMALL = {"width": 8, "height": 4}


class TestContractImages:
    def test_shape_dtype_range(self):
        series = make_series(300)
        starts = np.array([32, 100, 150])
        images = ae_gdi(series, starts)
        assert images.shape == (3, 32, 64)
        assert images.dtype == np.float32
        assert images.min() >= 0.0 and images.max() <= 1.0
        for normalized in (False, True):
            g = gdi(series, starts, normalized=normalized)
            assert g.shape == (3, 32, 64) and g.dtype == np.float32
        cos = gdi(series, starts, normalized=True)
        assert cos.min() >= -1.0 - 1e-6 and cos.max() <= 1.0 + 1e-6

    def test_strict_margins_raise(self):
        series = make_series(200)
        assert required_margins() == (32, 96)
        ae_gdi(series, [32, 104])  # both limits are valid
        for bad in ([31], [105]):
            with pytest.raises(ValueError, match="lack the margin"):
                ae_gdi(series, bad)
            with pytest.raises(ValueError, match="lack the margin"):
                gdi(series, bad)

    def test_valid_starts_filters_and_counts(self):
        starts = np.array([0, 31, 32, 104, 105, 150])
        kept, n_skipped = valid_starts(starts, 200, return_n_skipped=True)
        np.testing.assert_array_equal(kept, [32, 104])
        assert n_skipped == 4
        mask = valid_start_mask(starts, 200, edge="pad")
        np.testing.assert_array_equal(mask, [True, True, True, True, True, False])
        assert valid_starts([], 200).dtype == np.int64

    def test_pad_mode_zeroes_outside_pixels(self):
        series = make_series(100)
        images = ae_gdi(series, [0, 36], edge="pad")
        # start 0, column i, delay m: a(i - m) is outside for m > i.
        rows, cols = np.indices((32, 64))
        outside = (rows + 1) > cols
        assert np.all(images[0][outside] == 0)
        assert np.all(images[0][~outside] > 0)
        # start 36 ends at 99 = last sample: a(t + m) outside for t + m > 99.
        assert np.all(images[1][36 + cols + rows + 1 > 99] == 0)
        # Interior pixels equal strict-mode values of a longer recording.
        with pytest.raises(ValueError):
            ae_gdi(series, [0])
        with pytest.raises(ValueError):
            ae_gdi(series, [37], edge="pad")

    def test_gdi_pad_only_needs_ahead(self):
        series = make_series(100)
        images = gdi(series, [0], edge="pad")
        assert np.all(images[0] != 0)  # every a(t + m) with t + m < 96 exists
        ref = reference_gdi(series, [36], edge="pad")
        np.testing.assert_allclose(gdi(series, [36], edge="pad"), ref, rtol=1e-6)

    def test_validation_errors(self):
        series = make_series(200)
        with pytest.raises(ValueError, match="shape"):
            ae_gdi(series[:, :2], [40])
        with pytest.raises(ValueError, match="edge"):
            ae_gdi(series, [40], edge="wrap")
        nan_series = series.copy()
        nan_series[5, 0] = np.nan
        with pytest.raises(ValueError, match="finite"):
            ae_gdi(nan_series, [40])
        with pytest.raises(ValueError, match="integer"):
            ae_gdi(series, [40.5])

    def test_empty_and_duplicate_starts(self):
        series = make_series(200)
        assert ae_gdi(series, []).shape == (0, 32, 64)
        images = ae_gdi(series, [90, 40, 90])
        np.testing.assert_array_equal(images[0], images[2])
        np.testing.assert_array_equal(images[1], ae_gdi(series, [40])[0])

    def test_no_mutation_and_determinism(self):
        series = make_series(200)
        starts = np.array([40, 60])
        series_copy, starts_copy = series.copy(), starts.copy()
        first = ae_gdi(series, starts)
        np.testing.assert_array_equal(series, series_copy)
        np.testing.assert_array_equal(starts, starts_copy)
        np.testing.assert_array_equal(first, ae_gdi(series, starts))

    def test_stack_channels(self):
        acc = np.zeros((4, 32, 64))
        assert stack_channels(acc).shape == (4, 32, 64, 1)
        both = stack_channels(acc, np.ones((4, 32, 64)))
        assert both.shape == (4, 32, 64, 2) and both.dtype == np.float32
        assert np.all(both[..., 1] == 1)
        with pytest.raises(ValueError, match="shape"):
            stack_channels(acc, np.ones((3, 32, 64)))
        with pytest.raises(ValueError, match="shape"):
            stack_channels(np.zeros((32, 64)))


class TestImagesMatchReference:
    @pytest.mark.parametrize("edge", ["strict", "pad"])
    def test_ae_gdi_equals_reference(self, edge):
        series = make_series(160, random_state=3)
        starts = [0, 5, 37, 40, 64] if edge == "pad" else [32, 33, 50, 64]
        starts = [s for s in starts if valid_start_mask([s], 160, edge=edge)[0]]
        np.testing.assert_allclose(
            ae_gdi(series, starts, edge=edge),
            reference_ae_gdi(series, starts, edge=edge),
            atol=1e-6,
        )

    @pytest.mark.parametrize("normalized", [False, True])
    def test_gdi_equals_reference(self, normalized):
        series = make_series(160, random_state=4) + 2.0
        starts = [32, 40, 64]
        np.testing.assert_allclose(
            gdi(series, starts, normalized=normalized),
            reference_gdi(series, starts, normalized=normalized),
            rtol=1e-6,
            atol=1e-6,
        )

    def test_sparse_and_dense_starts_agree(self):
        # Dense starts share segments, sparse ones do not: both paths must agree.
        series = make_series(3000, random_state=5)
        dense = np.arange(40, 2800, 20)
        sparse = np.arange(40, 2800, 400)
        np.testing.assert_array_equal(ae_gdi(series, sparse), ae_gdi(series, dense)[::20])

    def test_zero_vectors_give_zero(self):
        series = np.ones((120, 3))  # constant: every difference vector is zero
        images = ae_gdi(series, [40], **SMALL)
        assert np.all(images == 0)
        np.testing.assert_array_equal(images, reference_ae_gdi(series, [40], **SMALL))


_finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


class TestImagesBehaviour:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        seed=st.integers(0, 2**31 - 1),
        scale=st.floats(1e-3, 1e3),
        translation=st.tuples(_finite, _finite, _finite),
    )
    def test_ae_gdi_invariant_to_rotation_translation_scaling(self, seed, scale, translation):
        rng = np.random.default_rng(seed)
        series = rng.normal(size=(160, 3)) * rng.uniform(0.1, 10.0)
        rotation = random_rotation(rng)
        moved = scale * series @ rotation.T + np.asarray(translation)
        starts = [32, 40]
        diff = np.abs(ae_gdi(moved, starts) - ae_gdi(series, starts)).max()
        assert diff < 1e-5

    @settings(max_examples=25, deadline=None)
    @given(seed=st.integers(0, 2**31 - 1))
    def test_gdi_rotation_invariant_not_translation(self, seed):
        rng = np.random.default_rng(seed)
        series = rng.normal(size=(160, 3)) + np.array([0.0, 0.0, 9.81])
        rotation = random_rotation(rng)
        base = gdi(series, [32])
        np.testing.assert_allclose(gdi(series @ rotation.T, [32]), base, rtol=1e-5, atol=1e-4)
        shifted = gdi(series + np.array([1.0, -2.0, 0.5]), [32])
        assert np.abs(shifted - base).max() > 0.1

    def test_walk_images_are_periodic(self):
        # Images of consecutive cycles of a clean walk look alike; of a shifted start, less so.
        acc, starts = make_walk(1500, noise_m_s2=0.05, jitter=0.0, random_state=1)
        starts = valid_starts(starts, len(acc))
        images = ae_gdi(acc, starts)
        same = np.abs(images[1:] - images[:-1]).mean()
        shifted = np.abs(ae_gdi(acc, starts[1:-1] + 13) - images[1:-1]).mean()
        assert same < 0.5 * shifted


class TestDenseStartsAndMagnitude:
    def test_dense_starts_pad_and_strict(self):
        from gaitcnn.images import dense_starts

        np.testing.assert_array_equal(dense_starts(100, 10), [0, 10, 20, 30])
        np.testing.assert_array_equal(dense_starts(100, 10, edge="strict"), [])
        np.testing.assert_array_equal(dense_starts(200, 50, edge="strict"), [32, 82])
        assert dense_starts(63, 1).size == 0  # shorter than one image
        with pytest.raises(ValueError, match="step_samples"):
            dense_starts(100, 0)

    def test_every_dense_start_is_valid(self):
        from gaitcnn.images import dense_starts, valid_start_mask

        for edge in ("pad", "strict"):
            starts = dense_starts(300, 7, edge=edge)
            assert valid_start_mask(starts, 300, edge=edge).all()
            assert not valid_start_mask([starts[-1] + 7], 300, edge=edge).any()

    def test_magnitude_image_is_a_delay_image_of_the_norm(self):
        from gaitcnn.images import magnitude_image

        rng = np.random.default_rng(0)
        series = rng.normal(size=(200, 3))
        norm = np.linalg.norm(series, axis=1)
        images = magnitude_image(series, [40, 50], width=64, height=32, offset=1.0, scale=2.0)
        assert images.shape == (2, 32, 64) and images.dtype == np.float32
        np.testing.assert_allclose(images[1, 5, 7], (norm[50 + 5 + 7] - 1.0) / 2.0, rtol=1e-6)
        # rotation-invariant like the AE-GDI
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        rotated = magnitude_image(series @ q.T, [40, 50], offset=1.0, scale=2.0)
        np.testing.assert_allclose(rotated, images, atol=1e-5)
        # "pad": samples past the end read as 0 after normalisation
        tail = magnitude_image(series, [200 - 64], edge="pad")
        assert tail[0, 31, 63] == 0.0
        with pytest.raises(ValueError, match="margin"):
            magnitude_image(series, [0], edge="strict")
