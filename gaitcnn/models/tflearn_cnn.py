"""The paper CNN in tflearn (the paper's framework): builder, trainer, and transfer to Keras.

Run as its own process::

    python -m gaitcnn.models.tflearn_cnn --data train.npz --out runs/tflearn --epochs 50

WARNING - the functions that need tflearn (:func:`build_tflearn_paper_cnn`,
:func:`train_tflearn`, :func:`predict_tflearn`, :func:`main`) import it lazily, and importing
tflearn switches the whole process to TensorFlow 1 graph mode, irreversibly: Keras 3 training,
eager ``tf.data`` and export stop working in that process. Importing *this module* is safe; it
does not import tflearn. :func:`tflearn_to_keras` never imports tflearn and is meant to run in
the Keras process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitcnn._atomic import write_json_atomic
from gaitcnn.models.paper_cnn import MAX_N_CONV, PAPER_CNN_HPARAMS

__all__ = [
    "ADAM_EPSILON",
    "CHECKPOINT_NAME",
    "best_epoch_of",
    "build_tflearn_paper_cnn",
    "keras_weights_for_tflearn",
    "main",
    "predict_tflearn",
    "tflearn_to_keras",
    "train_tflearn",
]

#: Adam's epsilon for the tflearn model: tflearn's default, so what the paper ran with
#: (Keras's default is 1e-7; the difference matters only for near-zero second moments).
ADAM_EPSILON = 1e-8

#: [P] Adam learning rate.
LEARNING_RATE = 0.001

#: tflearn's DNN default: gradients are clipped to this global norm. The paper built its model
#: in tflearn and names no clipping, so it most likely trained with this default; kept here.
CLIP_GRADIENTS = 5.0

#: Checkpoint prefix written by :func:`train_tflearn` inside ``out_dir``.
CHECKPOINT_NAME = "model.tflearn"


def build_tflearn_paper_cnn(
    input_shape: Sequence[int] = (32, 64, 1),
    n_classes: int = 2,
    conv_filters: Sequence[int] = PAPER_CNN_HPARAMS["conv_filters"],
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    dropout_rate: float = PAPER_CNN_HPARAMS["dropout_rate"],
    *,
    n_conv: int = PAPER_CNN_HPARAMS["n_conv"],
    learning_rate: float = LEARNING_RATE,
    adam_epsilon: float = ADAM_EPSILON,
):
    """Build the paper CNN as a tflearn network ending in a ``regression`` layer.

    The same graph as :func:`gaitcnn.models.build_paper_cnn`, with every tflearn default that
    differs from the paper set explicitly: 'valid' padding for convolutions and pooling (tflearn
    defaults to 'same'), ReLU (default linear), dropout given as the *keep* probability
    ``1 - dropout_rate``, and orthogonal initialisation (``tf.compat.v1.orthogonal_initializer``;
    tflearn has no 'orthogonal' name). Variable scopes ``conv1``..``conv{n_conv}``, ``fl1``,
    ``fl2`` hold ``W`` and ``b``; :func:`tflearn_to_keras` relies on them.

    Must be called inside a fresh graph in a process dedicated to tflearn (see module doc).

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 64, 1)
        (height, width, channels) of one image.
    n_classes : int, default=2
        N_o, the number of softmax outputs.
    conv_filters : sequence of int, default=(32, 64, 64)
        Feature maps of conv1, conv2, ...; as in :func:`gaitcnn.models.build_paper_cnn`.
    fl1_units : int, default=512
        Width of fl1.
    dropout_rate : float, default=0.5
        Fraction dropped before fl1 and fl2 (tflearn receives ``keep_prob = 1 - dropout_rate``).
    n_conv : int, default=3
        Convolution layers up to mp2, 1..4 (1: no mp2).
    learning_rate : float, default=0.001
        Adam learning rate [P].
    adam_epsilon : float, default=1e-8
        Adam epsilon (tflearn's default; see :data:`ADAM_EPSILON`).

    Returns
    -------
    tf.Tensor
        The tflearn regression op, input ``(batch, *input_shape)``, output ``(batch, n_classes)``
        softmax probabilities; pass it to ``tflearn.DNN``.
    """
    import tensorflow as tf

    from gaitcnn.models._tflearn_compat import import_tflearn
    from gaitcnn.models.paper_cnn import _conv_widths

    tflearn = import_tflearn()
    widths = _conv_widths(conv_filters, n_conv)

    def orthogonal():
        return tf.compat.v1.orthogonal_initializer(gain=1.0)

    def conv(x, width, scope):
        return tflearn.layers.conv.conv_2d(
            x, width, 3, strides=1, padding="valid", activation="relu",
            weights_init=orthogonal(), bias_init="zeros", scope=scope,
        )  # fmt: skip

    net = tflearn.layers.core.input_data(shape=[None, *input_shape], name="input")
    net = conv(net, widths[0], "conv1")
    net = tflearn.layers.conv.max_pool_2d(net, 2, strides=2, padding="valid", name="mp1")
    if n_conv > 1:
        for index, width in enumerate(widths[1:], start=2):
            net = conv(net, width, f"conv{index}")
        net = tflearn.layers.conv.max_pool_2d(net, 2, strides=2, padding="valid", name="mp2")
    keep_prob = 1.0 - dropout_rate  # tflearn's dropout takes the *keep* probability
    net = tflearn.layers.core.dropout(net, keep_prob, name="dropout1")
    net = tflearn.layers.core.fully_connected(
        net, fl1_units, activation="relu", weights_init=orthogonal(), scope="fl1"
    )
    net = tflearn.layers.core.dropout(net, keep_prob, name="dropout2")
    net = tflearn.layers.core.fully_connected(
        net, n_classes, activation="softmax", weights_init=orthogonal(), scope="fl2"
    )
    adam = tflearn.optimizers.Adam(learning_rate=learning_rate, epsilon=adam_epsilon)
    return tflearn.layers.estimator.regression(
        net, optimizer=adam, loss="categorical_crossentropy", name="target"
    )


def _make_epoch_logger(tflearn, history: list[dict], stream):
    """A tflearn callback that records each epoch's logs and prints one plain line."""

    class EpochLogger(tflearn.callbacks.Callback):
        def on_train_begin(self, training_state):
            self.started = time.perf_counter()

        def on_epoch_end(self, training_state):
            # tflearn's loss and accuracy are running averages over the recent batches; the
            # validation figures are the whole validation set's, scored after the last batch.
            entry = {"epoch": int(training_state.epoch), "loss": float(training_state.global_loss)}
            for key, value in (("accuracy", training_state.acc_value),
                               ("val_loss", training_state.val_loss),
                               ("val_accuracy", training_state.val_acc)):  # fmt: skip
                if value is not None:
                    entry[key] = float(value)
            now = time.perf_counter()
            entry["epoch_time_s"], self.started = now - self.started, now
            history.append(entry)
            print(f"tflearn epoch {entry['epoch']}: loss {entry['loss']:.5f}", file=stream)
            stream.flush()

    return EpochLogger()


def _as_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(
            f"images must have shape (n_images, height, width, channels). "
            f"Received shape {images.shape}"
        )
    return images


def _as_onehot(labels_onehot, n_images: int, n_classes: int, name: str) -> np.ndarray:
    labels_onehot = np.asarray(labels_onehot, dtype=np.float32)
    if labels_onehot.shape != (n_images, n_classes):
        raise ValueError(
            f"{name} must have shape (n_images, n_classes) = ({n_images}, {n_classes}). "
            f"Received shape {labels_onehot.shape}"
        )
    return labels_onehot


def best_epoch_of(history: Sequence[dict]) -> int | None:
    """The epoch tflearn's best-checkpoint rule keeps: the first with the highest validation
    accuracy, if that accuracy is above 0 (``DNN(best_val_accuracy=0.0)``, strict ``>``).

    Examples
    --------
    >>> best_epoch_of([{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 0.5}])
    1
    >>> best_epoch_of([{"epoch": 1, "val_accuracy": 0.0}]) is None
    True
    """
    best, epoch = 0.0, None
    for entry in history:
        if entry.get("val_accuracy", 0.0) > best:
            best, epoch = entry["val_accuracy"], entry["epoch"]
    return epoch


def train_tflearn(
    images: np.ndarray,
    labels_onehot: np.ndarray,
    *,
    n_classes: int,
    epochs: int,
    batch_size: int = 100,
    seed: int,
    out_dir: str | os.PathLike,
    conv_filters: Sequence[int] = PAPER_CNN_HPARAMS["conv_filters"],
    n_conv: int = PAPER_CNN_HPARAMS["n_conv"],
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    dropout_rate: float = PAPER_CNN_HPARAMS["dropout_rate"],
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    learning_rate: float = LEARNING_RATE,
    adam_epsilon: float = ADAM_EPSILON,
    clip_gradients: float = CLIP_GRADIENTS,
    shuffle: bool = True,
    threads: int = 0,
    deterministic: bool = False,
    initial_weights: dict[str, np.ndarray] | None = None,
) -> Path:
    """Train the tflearn paper CNN; save its final (and best) weights; return the kept ones.

    IMPORTS TFLEARN: run in a dedicated process (``python -m gaitcnn.models.tflearn_cnn``, or
    :mod:`gaitcnn.models._tflearn_process`).

    Writes into ``out_dir``: the checkpoint ``model.tflearn.{index,data-*,meta}`` (final
    weights), with ``validation`` the best epoch's under ``best/``, ``result.json`` (the kept
    checkpoint and the best epoch), ``config.json`` (resolved arguments and versions),
    ``history.json`` (one entry per epoch), ``tflearn_stdout.log`` (tflearn's own ANSI progress
    output, kept off the terminal) and TensorBoard events under ``tensorboard/``.

    Parameters
    ----------
    images : np.ndarray, shape (n_images, height, width, channels)
        Training images, float32.
    labels_onehot : np.ndarray, shape (n_images, n_classes)
        One-hot targets.
    n_classes : int
        N_o.
    epochs : int
        Passes over the data. [P] 50 in the paper.
    batch_size : int, default=100
        [P] mini-batches of 100 (the last batch of an epoch is smaller).
    seed : int
        Graph-level TensorFlow seed (initialisation, dropout) and numpy seed (tflearn shuffles
        batches with the global numpy generator).
    out_dir : path
        Output directory, created if needed.
    conv_filters, n_conv, fl1_units, dropout_rate
        As in :func:`build_tflearn_paper_cnn`.
    validation : (images, labels_onehot), optional
        Scored after every epoch; tflearn's own best-checkpoint mechanism
        (``DNN(best_checkpoint_path=...)``) saves the weights whenever the validation accuracy
        beats the best so far (strictly, starting from 0), and those weights are kept.
    learning_rate, adam_epsilon : float
        Adam's (see :func:`build_tflearn_paper_cnn`).
    clip_gradients : float, default=5.0
        Global gradient norm (tflearn's default, :data:`CLIP_GRADIENTS`); 0 disables it.
    shuffle : bool, default=True
        Reshuffle the training images every epoch (tflearn's ``shuffle``).
    threads : int, default=0
        TensorFlow intra-op threads (0: TensorFlow's default).
    deterministic : bool, default=False
        ``tf.config.experimental.enable_op_determinism()`` first (sticky for the process).
    initial_weights : dict of str to np.ndarray, optional
        Start from these weights (``"conv1/W"``, ``"conv1/b"``, ... as
        :func:`keras_weights_for_tflearn` gives them) instead of tflearn's own draw: with
        ``shuffle=False`` and no dropout, both frameworks then do the same arithmetic.

    Returns
    -------
    pathlib.Path
        The checkpoint prefix of the kept weights (give it to ``tf.train.load_checkpoint`` or
        :func:`tflearn_to_keras`): ``out_dir / "model.tflearn"``, or the best epoch's.

    Raises
    ------
    ValueError
        If the shapes of ``images`` and ``labels_onehot`` disagree.
    """
    images = _as_images(images)
    labels_onehot = _as_onehot(labels_onehot, images.shape[0], n_classes, "labels_onehot")
    if validation is not None:
        val_images = _as_images(validation[0])
        validation = (val_images, _as_onehot(validation[1], len(val_images), n_classes,
                                             "validation labels"))  # fmt: skip
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    import tensorflow as tf

    arch = {"conv_filters": list(conv_filters), "n_conv": n_conv, "fl1_units": fl1_units,
            "dropout_rate": dropout_rate}  # fmt: skip
    loop = {"learning_rate": learning_rate, "adam_epsilon": adam_epsilon,
            "clip_gradients": clip_gradients, "epochs": epochs, "batch_size": batch_size,
            "seed": seed, "shuffle": shuffle, "deterministic": deterministic}  # fmt: skip
    config = {"framework": "tflearn", "input_shape": list(images.shape[1:]),
              "n_classes": n_classes, **arch, **loop, "n_images": int(images.shape[0]),
              "n_validation_images": 0 if validation is None else len(validation[0]),
              "versions": {"tensorflow": tf.__version__,
                           "tflearn": importlib.metadata.version("tflearn")}}  # fmt: skip
    write_json_atomic(out_dir / "config.json", config)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    history = _fit_dnn(
        images, labels_onehot, validation, out_dir, arch, loop, threads, initial_weights
    )
    write_json_atomic(out_dir / "history.json", history)
    best = tf.train.latest_checkpoint(str(out_dir / "best")) if validation is not None else None
    kept = Path(best) if best else out_dir / CHECKPOINT_NAME
    result = {"checkpoint": str(kept.relative_to(out_dir)),
              "best_epoch": best_epoch_of(history) if best else None}  # fmt: skip
    write_json_atomic(out_dir / "result.json", result)
    return kept


def _fit_dnn(images, labels_onehot, validation, out_dir: Path, arch, loop, threads,
             initial_weights=None) -> list:  # fmt: skip
    """Build the network in a fresh graph, fit it with ``tflearn.DNN``, save it; the history."""
    import tensorflow as tf

    from gaitcnn.models._tflearn_compat import import_tflearn

    tflearn = import_tflearn()
    history: list[dict] = []
    np.random.seed(loop["seed"])  # noqa: NPY002 - tflearn shuffles with the legacy global generator
    with tf.Graph().as_default():
        # Not tflearn.init_graph(seed): it ignores seed=0 ("if seed:").
        tf.compat.v1.set_random_seed(loop["seed"])
        if threads:
            tflearn.init_graph(num_cores=int(threads))
        net = build_tflearn_paper_cnn(
            images.shape[1:], labels_onehot.shape[1], arch["conv_filters"], arch["fl1_units"],
            arch["dropout_rate"], n_conv=arch["n_conv"], learning_rate=loop["learning_rate"],
            adam_epsilon=loop["adam_epsilon"],
        )  # fmt: skip
        best = {}
        shutil.rmtree(out_dir / "best", ignore_errors=True)  # never keep an earlier run's best
        if validation is not None:  # tflearn appends the accuracy x 10000 to this prefix
            (out_dir / "best").mkdir()
            best = {"best_checkpoint_path": str(out_dir / "best" / f"{CHECKPOINT_NAME}.best")}
        model = tflearn.DNN(
            net,
            clip_gradients=loop["clip_gradients"],
            tensorboard_verbose=0,
            tensorboard_dir=str(out_dir / "tensorboard"),
            **best,
        )
        if initial_weights is not None:
            variables = {v.op.name: v for v in tf.compat.v1.trainable_variables()}
            if set(variables) != set(initial_weights):
                raise ValueError(
                    f"initial_weights {sorted(initial_weights)} do not match the network's "
                    f"variables {sorted(variables)}"
                )
            for name, value in initial_weights.items():
                model.set_weights(variables[name], value)
        logger = _make_epoch_logger(tflearn, history, sys.stdout)
        # tflearn's TermLogger writes ANSI cursor codes on every batch: send them to a file.
        with (
            open(out_dir / "tflearn_stdout.log", "w") as log,
            contextlib.redirect_stdout(log),
        ):
            model.fit(
                images,
                labels_onehot,
                n_epoch=loop["epochs"],
                validation_set=validation,
                batch_size=loop["batch_size"],
                shuffle=loop["shuffle"],
                show_metric=True,
                snapshot_epoch=False,
                snapshot_step=None,
                run_id="gaitcnn",
                callbacks=[logger],
            )
        model.save(str(out_dir / CHECKPOINT_NAME))
        model.session.close()
    return history


def predict_tflearn(
    checkpoint_path: str | os.PathLike,
    images: np.ndarray,
    *,
    n_classes: int,
    conv_filters: Sequence[int] = PAPER_CNN_HPARAMS["conv_filters"],
    n_conv: int = PAPER_CNN_HPARAMS["n_conv"],
    fl1_units: int = PAPER_CNN_HPARAMS["fl1_units"],
    batch_size: int = 100,
) -> np.ndarray:
    """Rebuild the tflearn network, load a checkpoint and return softmax outputs (no dropout).

    IMPORTS TFLEARN: run in a dedicated process.

    Parameters
    ----------
    checkpoint_path : path
        Checkpoint prefix returned by :func:`train_tflearn`.
    images : np.ndarray, shape (n_images, height, width, channels)
    n_classes, conv_filters, n_conv, fl1_units
        The architecture the checkpoint was trained with.
    batch_size : int, default=100
        Prediction batch size.

    Returns
    -------
    np.ndarray, shape (n_images, n_classes)
        Softmax probabilities, float32.
    """
    images = _as_images(images)
    import tensorflow as tf

    from gaitcnn.models._tflearn_compat import import_tflearn

    tflearn = import_tflearn()
    with tf.Graph().as_default():
        net = build_tflearn_paper_cnn(
            images.shape[1:], n_classes, conv_filters, fl1_units, n_conv=n_conv
        )
        model = tflearn.DNN(net, tensorboard_verbose=0)
        model.load(str(checkpoint_path), weights_only=True)
        outputs = [
            np.asarray(model.predict(images[start : start + batch_size]), dtype=np.float32)
            for start in range(0, images.shape[0], batch_size)
        ]
        model.session.close()
    return np.concatenate(outputs, axis=0)


def keras_weights_for_tflearn(keras_model) -> dict[str, np.ndarray]:
    """The weights of a Keras paper CNN under tflearn's variable names (``"conv1/W"``...).

    The inverse of :func:`tflearn_to_keras` (same layouts, no transposition); feed it to
    :func:`train_tflearn` ``initial_weights``. Does not import tflearn.
    """
    weights = {}
    for layer in keras_model.layers:
        if layer.weights:
            kernel, bias = layer.get_weights()
            weights[f"{layer.name}/W"], weights[f"{layer.name}/b"] = kernel, bias
    return weights


def tflearn_to_keras(checkpoint_path: str | os.PathLike, keras_model):
    """Copy the weights of a tflearn paper-CNN checkpoint into a Keras paper CNN, in place.

    Reads the checkpoint with ``tf.train.load_checkpoint``; does NOT import tflearn, so it is
    safe in the Keras process. Every Keras layer with weights must be named after a tflearn
    scope (``conv1``..``conv4``, ``fl1``, ``fl2``, as :func:`gaitcnn.models.build_paper_cnn`
    names them), and every such scope of the checkpoint must have a Keras layer. Kernel
    layouts are identical (conv ``[kh, kw, in, out]``, dense ``[in, out]``, NHWC flatten
    order), so no transposition is needed and outputs agree to float rounding.

    Parameters
    ----------
    checkpoint_path : path
        Checkpoint prefix (e.g. ``out_dir / "model.tflearn"``).
    keras_model : keras.Model
        A built paper CNN with the same architecture hyperparameters as the checkpoint.

    Returns
    -------
    keras.Model
        ``keras_model``, with its weights replaced.

    Raises
    ------
    ValueError
        If layers and scopes do not correspond one to one, or a shape differs.
    """
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(checkpoint_path))
    shapes = reader.get_variable_to_shape_map()
    scopes = {
        name.split("/")[0]
        for name in shapes
        if name.count("/") == 1
        and name.endswith("/W")
        and name.split("/")[0].startswith(("conv", "fl"))
    }
    weighted = [layer for layer in keras_model.layers if layer.weights]
    names = {layer.name for layer in weighted}
    if names != scopes:
        raise ValueError(
            f"Keras layers with weights {sorted(names)} do not match the checkpoint scopes "
            f"{sorted(scopes)} in {checkpoint_path}"
        )
    for layer in weighted:
        new_weights = [reader.get_tensor(f"{layer.name}/W"), reader.get_tensor(f"{layer.name}/b")]
        for current, new, part in zip(layer.get_weights(), new_weights, ("W", "b"), strict=True):
            if current.shape != new.shape:
                raise ValueError(
                    f"{layer.name}/{part}: checkpoint shape {new.shape} != Keras shape "
                    f"{current.shape}; build the Keras model with the checkpoint's config.json"
                )
        layer.set_weights(new_weights)
    return keras_model


def _parse_ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: train the tflearn paper CNN on an ``.npz`` file.

    The ``.npz`` holds ``images`` (n_images, height, width, channels) and ``labels``, either
    integer class indices (n_images,) or one-hot (n_images, n_classes). With ``--predict`` the
    saved checkpoint is reloaded in a fresh graph and its softmax outputs on that file's
    ``images`` are written to ``OUT/predictions.npz`` (key ``probabilities``).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code, 0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m gaitcnn.models.tflearn_cnn",
        description="Train the paper CNN with tflearn (own process: tflearn forces TF1 mode).",
    )
    parser.add_argument("--data", required=True, help=".npz with 'images' and 'labels'")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--epochs", type=int, required=True, help="training epochs (paper: 50)")
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size")
    parser.add_argument("--seed", type=int, default=0, help="TF graph and numpy seed")
    parser.add_argument("--n-classes", type=int, default=None, help="default: from labels")
    parser.add_argument(
        "--conv-filters", type=_parse_ints, default=PAPER_CNN_HPARAMS["conv_filters"],
        help="comma-separated conv widths, e.g. 32,64,64",
    )  # fmt: skip
    parser.add_argument("--n-conv", type=int, default=PAPER_CNN_HPARAMS["n_conv"],
                        choices=range(1, MAX_N_CONV + 1), help="conv layers up to mp2")  # fmt: skip
    parser.add_argument("--fl1-units", type=int, default=PAPER_CNN_HPARAMS["fl1_units"])
    parser.add_argument("--dropout-rate", type=float, default=PAPER_CNN_HPARAMS["dropout_rate"])
    parser.add_argument("--predict", default=None, help=".npz whose 'images' to predict")
    args = parser.parse_args(argv)

    with np.load(args.data) as data:
        images = data["images"]
        labels = data["labels"]
    if labels.ndim == 1:
        n_classes = args.n_classes or int(labels.max()) + 1
        labels_onehot = np.eye(n_classes, dtype=np.float32)[labels.astype(np.int64)]
    else:
        n_classes = args.n_classes or labels.shape[1]
        labels_onehot = labels
    hparams = {
        "conv_filters": args.conv_filters,
        "n_conv": args.n_conv,
        "fl1_units": args.fl1_units,
    }
    checkpoint = train_tflearn(
        images,
        labels_onehot,
        n_classes=n_classes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        out_dir=args.out,
        dropout_rate=args.dropout_rate,
        **hparams,
    )
    print(f"checkpoint: {checkpoint}")
    if args.predict is not None:
        with np.load(args.predict) as data:
            probe = data["images"]
        probabilities = predict_tflearn(checkpoint, probe, n_classes=n_classes, **hparams)
        out = Path(args.out) / "predictions.npz"
        np.savez(out, probabilities=probabilities)
        print(f"predictions: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
