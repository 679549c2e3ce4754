"""Tests of gaitcnn.models: the registry contract, the paper CNN's sizes, counts and goldens.

Parameter and multiply-add counts are compared with ``tests/snapshots/model_params.json``.
Refresh it (after a deliberate architecture change) with::

    GAITCNN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_models.py -n 0

(or ``--update-golden`` if conftest defines it). A missing entry fails; it is never created
silently.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from gaitcnn import models  # noqa: E402 - after the soft-dependency skip
from gaitcnn.models import (  # noqa: E402
    INCEPTION_STAGES,
    MODEL_BUILDERS,
    TEST_HPARAMS,
    InceptionFilters,
    build_inception,
    build_paper_cnn,
    build_tcnn,
    count_flops,
    count_params,
    default_input_shape,
)

pytestmark = pytest.mark.tf

SNAPSHOT = Path(__file__).parent / "snapshots" / "model_params.json"

#: Default-configuration variants recorded in the snapshot and in each builder's docstring.
DEFAULT_VARIANTS = {
    "1ch_2cls": (1, 2),
    "2ch_2cls": (2, 2),
    "1ch_744cls": (1, 744),
    "2ch_744cls": (2, 744),
}


def _updating(request) -> bool:
    return os.environ.get("GAITCNN_UPDATE_GOLDEN") == "1" or bool(
        request.config.getoption("--update-golden", default=False)
    )


def _golden(request, key: str, compute):
    """Return the recorded value of ``key``; in update mode record ``compute()`` first."""
    data = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    if _updating(request):
        data[key] = compute()
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if key not in data:
        pytest.fail(
            f"No golden entry {key!r} in {SNAPSHOT}. If the architecture change is deliberate, "
            "refresh with GAITCNN_UPDATE_GOLDEN=1 (see this module's docstring)."
        )
    return data[key]


@pytest.fixture
def zero_init(monkeypatch):
    """Make orthogonal initialisation free (zeros): for tests of structure and counts only.

    A real orthogonal fl1 of the TCNN (26624 x 512) costs seconds of QR decomposition.
    """

    def zeros(self, shape, dtype=None):
        return keras.ops.zeros(shape, dtype=dtype or "float32")

    monkeypatch.setattr(keras.initializers.Orthogonal, "__call__", zeros)


def _counts(model) -> dict[str, int]:
    return {"params": count_params(model), "multiply_adds": count_flops(model)}


def _build_test_model(model_name: str):
    hparams = dict(TEST_HPARAMS[model_name])
    return MODEL_BUILDERS[model_name](
        hparams.pop("input_shape"), hparams.pop("n_classes"), **hparams
    )


def _skip_series(model_name: str, why: str) -> None:
    """The paper's image-network contract does not apply to raw-window networks."""
    from gaitcnn.registry import NETWORKS

    if NETWORKS[model_name].input_kind == "series":
        pytest.skip(f"{model_name} reads raw windows: {why}")


def _kernels(model):
    return [
        (layer.name, layer.kernel.numpy())
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]


@pytest.mark.parametrize("model_name", sorted(MODEL_BUILDERS))
class TestContractModels:
    """The contract every registered builder honours, on its tiny TEST_HPARAMS config."""

    def test_output_is_softmax_of_right_shape(self, model_name):
        model = _build_test_model(model_name)
        hparams = TEST_HPARAMS[model_name]
        x = np.random.default_rng(0).random((5, *hparams["input_shape"]), dtype=np.float32)
        y = np.asarray(model(x, training=False))
        assert y.shape == (5, hparams["n_classes"])
        assert np.all(y >= 0)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)

    def test_uncompiled_named_functional(self, model_name):
        model = _build_test_model(model_name)
        default_name = inspect.signature(MODEL_BUILDERS[model_name]).parameters["name"].default
        assert model.name == default_name == model_name
        assert isinstance(model, keras.Model)
        assert not isinstance(model, keras.Sequential)
        assert not model.compiled

    def test_layer_names_unique(self, model_name):
        names = [layer.name for layer in _build_test_model(model_name).layers]
        assert len(names) == len(set(names))

    def test_counts_match_golden(self, model_name, request):
        counts = _counts(_build_test_model(model_name))
        assert counts == _golden(request, f"{model_name}/test_hparams", lambda: counts)

    def test_kernels_orthogonal(self, model_name):
        _skip_series(model_name, "its layers use Keras' default Glorot initialisers")
        kernels = _kernels(_build_test_model(model_name))
        assert kernels
        for layer_name, kernel in kernels:
            matrix = kernel.reshape(-1, kernel.shape[-1])  # (fan_in, units), as Keras reshapes
            small = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
            np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5, err_msg=layer_name)

    def test_same_seed_same_weights(self, model_name):
        first, second = _build_test_model(model_name), _build_test_model(model_name)
        for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        hparams = dict(TEST_HPARAMS[model_name], seed=TEST_HPARAMS[model_name]["seed"] + 1)
        other = MODEL_BUILDERS[model_name](**hparams)
        assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])

    def test_global_seed_makes_unseeded_build_repeatable(self, model_name):
        hparams = dict(TEST_HPARAMS[model_name], seed=None)
        keras.utils.set_random_seed(7)
        first = MODEL_BUILDERS[model_name](**hparams)
        keras.utils.set_random_seed(7)
        second = MODEL_BUILDERS[model_name](**hparams)
        for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)

    def test_docstring_documents_every_parameter(self, model_name):
        builder = MODEL_BUILDERS[model_name]
        doc = inspect.getdoc(builder)
        section = doc.split("Parameters\n----------\n")[1].split("\n\n")[0]
        documented = re.findall(r"^(\w+) :", section, flags=re.MULTILINE)
        assert documented == list(inspect.signature(builder).parameters)
        # Documented defaults equal the signature's (the tflearn conv.py trap).
        for param in inspect.signature(builder).parameters.values():
            match = re.search(rf"^{param.name} : .*default=(.+)$", section, flags=re.MULTILINE)
            if param.default is not inspect.Parameter.empty and match:
                shown = match.group(1)
                if shown != "INCEPTION_STAGES":
                    assert shown == repr(param.default).replace("'", '"'), param.name

    def test_default_counts_match_golden_and_docstring(self, model_name, request, zero_init):
        _skip_series(model_name, "tests/test_raw_cnn.py checks its counts on raw windows")
        builder = MODEL_BUILDERS[model_name]
        counts = {
            variant: _counts(builder((32, 64, channels), n_classes))
            for variant, (channels, n_classes) in DEFAULT_VARIANTS.items()
        }
        assert counts == _golden(request, f"{model_name}/default", lambda: counts)
        # Every docstring row states the recorded numbers.
        rows = re.findall(
            r"^\s*(\d+)\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s*$", inspect.getdoc(builder), re.M
        )
        stated = {
            f"{ch}ch_{k}cls": {
                "params": int(p.replace(",", "")),
                "multiply_adds": int(f.replace(",", "")),
            }
            for ch, k, p, f in rows
        }
        assert stated == counts


@pytest.mark.usefixtures("zero_init")  # structure only: skip the QR
class TestPaperCnnBehaviour:
    """The paper CNN's exact structure (RECONSTRUCTION 1.6) and its Figure 9 variants."""

    def test_default_feature_map_sizes(self):
        model = build_paper_cnn(seed=0)
        shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
        assert shapes == {
            "input": (32, 64, 1),
            "conv1": (30, 62, 32),
            "mp1": (15, 31, 32),
            "conv2": (13, 29, 64),
            "conv3": (11, 27, 64),
            "mp2": (5, 13, 64),
            "flatten": (4160,),
            "dropout1": (4160,),
            "fl1": (512,),
            "dropout2": (512,),
            "fl2": (2,),
        }
        assert [layer.name for layer in model.layers] == list(shapes)
        for name in ("conv1", "conv2", "conv3"):
            config = model.get_layer(name).get_config()
            assert config["kernel_size"] == (3, 3)
            assert config["padding"] == "valid"
            assert config["activation"] == "relu"
        assert model.get_layer("mp1").get_config()["pool_size"] == (2, 2)
        assert model.get_layer("fl2").get_config()["activation"] == "softmax"
        assert model.get_layer("dropout1").rate == model.get_layer("dropout2").rate == 0.5

    @pytest.mark.parametrize(
        ("n_conv", "expected_convs", "flat"),
        [
            (1, ["conv1"], 15 * 31 * 32),
            (2, ["conv1", "conv2"], 6 * 14 * 64),
            (3, ["conv1", "conv2", "conv3"], 5 * 13 * 64),
            (4, ["conv1", "conv2", "conv3", "conv4"], 4 * 12 * 64),
        ],
    )
    def test_n_conv_sweep(self, n_conv, expected_convs, flat):
        model = build_paper_cnn(n_conv=n_conv, fl1_units=128, seed=0)
        names = [layer.name for layer in model.layers]
        assert [name for name in names if name.startswith("conv")] == expected_convs
        assert ("mp2" in names) == (n_conv > 1)  # Figure 9: N_conv = 1 has no mp2
        assert model.get_layer("flatten").output.shape[1] == flat

    @pytest.mark.parametrize("fl1_units", [128, 256, 512, 1024, 2048])
    def test_fl1_sweep(self, fl1_units):
        model = build_paper_cnn((32, 64, 2), 5, fl1_units=fl1_units, seed=0)
        assert model.get_layer("fl1").output.shape[1] == fl1_units
        conv_params = (3 * 3 * 2 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (3 * 3 * 64 * 64 + 64)
        dense_params = (4160 + 1) * fl1_units + (fl1_units + 1) * 5
        assert count_params(model) == conv_params + dense_params

    def test_count_flops_matches_hand_computation(self):
        expected = (
            30 * 62 * 32 * (3 * 3 * 1)  # conv1
            + 13 * 29 * 64 * (3 * 3 * 32)  # conv2
            + 11 * 27 * 64 * (3 * 3 * 64)  # conv3
            + 4160 * 512  # fl1
            + 512 * 2  # fl2
        )
        assert expected == 20_564_096
        assert count_flops(build_paper_cnn(seed=0)) == expected
        assert count_params(build_paper_cnn(seed=0)) == 2_187_202

    def test_extra_convolutions_repeat_last_width(self):
        model = build_paper_cnn(conv_filters=(8, 16), n_conv=4, fl1_units=8, seed=0)
        widths = [model.get_layer(f"conv{i}").filters for i in range(1, 5)]
        assert widths == [8, 16, 16, 16]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"input_shape": (32, 64)}, "input_shape"),
            ({"input_shape": (8, 8, 1)}, "too small"),
            ({"n_classes": 1}, "n_classes"),
            ({"n_conv": 5}, "n_conv"),
            ({"n_conv": 0}, "n_conv"),
            ({"conv_filters": ()}, "conv_filters"),
            ({"fl1_units": 0}, "fl1_units"),
            ({"dropout_rate": 1.0}, "dropout_rate"),
            ({"seed": -1}, "seed"),
        ],
    )
    def test_invalid_arguments_raise(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            build_paper_cnn(**kwargs)


@pytest.mark.usefixtures("zero_init")  # structure only: skip the QR
class TestTcnnBehaviour:
    def test_default_feature_map_sizes(self):
        model = build_tcnn(seed=0)
        shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
        assert shapes["conv1"] == (32, 62, 32)
        assert shapes["mp1"] == (32, 31, 32)
        assert shapes["conv3"] == (32, 27, 64)
        assert shapes["mp2"] == (32, 13, 64)
        assert shapes["flatten"] == (32 * 13 * 64,)
        assert model.get_layer("conv2").get_config()["kernel_size"] == (1, 3)
        assert model.get_layer("mp2").get_config()["pool_size"] == (1, 2)

    def test_raw_window_inputs(self):
        for shape in [(3, 64, 1), (1, 64, 6)]:
            model = build_tcnn(shape, 4, fl1_units=8, seed=0)
            assert model.output.shape[1:] == (4,)


@pytest.mark.usefixtures("zero_init")  # structure only: skip the QR
class TestInceptionBehaviour:
    def test_stage_table_and_shapes(self):
        model = build_inception(seed=0)
        assert [name for name, _ in INCEPTION_STAGES] == ["2a", "2b"]
        for name, filters in INCEPTION_STAGES:
            out = model.get_layer(f"inception_{name}_output").output.shape
            assert tuple(out[1:]) == (15, 31, filters.out_channels)
        assert tuple(model.get_layer("mp2").output.shape[1:]) == (7, 15, 120)
        # Every convolution has a ReLU (tflearn googlenet example forgot one).
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2D):
                assert layer.get_config()["activation"] == "relu", layer.name

    @pytest.mark.parametrize("channels", [1, 2])
    def test_multiply_adds_close_to_paper_cnn(self, channels):
        shape = (32, 64, channels)
        ratio = count_flops(build_inception(shape, 2, seed=0)) / count_flops(
            build_paper_cnn(shape, 2, seed=0)
        )
        assert 0.75 <= ratio <= 1.25

    def test_duplicate_block_names_raise(self):
        stage = InceptionFilters(2, 2, 2, 1, 1, 1)
        with pytest.raises(ValueError, match="unique"):
            build_inception((12, 16, 1), 2, stages=(("a", stage), ("a", stage)))


class TestRegistry:
    def test_default_input_shape(self):
        from gaitcnn.registry import NETWORKS

        assert set(MODEL_BUILDERS) == set(NETWORKS) == set(TEST_HPARAMS)
        for name, spec in NETWORKS.items():
            expected = (32, 64, 2) if spec.input_kind == "image" else (1, 64, 2)
            assert default_input_shape(name, 2) == expected
        with pytest.raises(ValueError, match="Unknown"):
            default_input_shape("resnet", 1)

    def test_build_model_by_name(self):
        model = models.build_model("paper_cnn", (14, 18, 1), 3, conv_filters=(2,), fl1_units=4)
        assert model.output.shape[1:] == (3,)

    def test_count_flops_counts_dense_on_sequences(self):
        inputs = keras.Input((5, 3))
        model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
        assert count_flops(model) == 5 * 3 * 4
        assert math.isclose(count_params(model), 3 * 4 + 4)

    def test_no_tflearn_in_this_process(self):
        import gaitcnn.models.tflearn_cnn  # noqa: F401 - importing it must not import tflearn

        assert "tflearn" not in sys.modules
