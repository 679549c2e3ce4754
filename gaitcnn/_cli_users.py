"""Command line for users the model never saw: ``gaitcnn enrol``, ``verify``, ``identify``.

Each command loads a model saved by :meth:`gaitcnn.GaitModel.save` (the verification preset,
calibrated with :meth:`gaitcnn.GaitModel.calibrate`) and a template store bound to it
(:class:`gaitcnn.store.TemplateStore`). Errors are :class:`gaitcnn.errors.GaitDataError` (or
``OSError``) naming the file at fault; the group (:mod:`gaitcnn.cli`) prints them in one line
with exit code 2. ``verify`` exits 0 when the walk is accepted and 1 when it is rejected.

TensorFlow is imported only once a command runs (through the model).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

from gaitcnn.constants import OUISIR_RATE_HZ
from gaitcnn.errors import GaitDataError

if TYPE_CHECKING:
    from gaitcnn.io import Recording

__all__ = ["enrol_command", "identify_command", "read_recording", "verify_command"]

#: Exit code of ``gaitcnn verify`` when the walk is rejected (0: accepted; 2: an error).
EXIT_REJECTED = 1

# Bytes read to tell the formats apart: an OU-ISIR file starts with "rows: N".
_SNIFF_BYTES = 64


# ---- reading one recording --------------------------------------------------------------------


def _is_ouisir_file(path: Path) -> bool:
    """Whether ``path`` starts like an OU-ISIR inertial file (``rows: N``); else McGill-like."""
    from gaitcnn._files import open_regular

    if path.name.lower().endswith(".gz"):
        return False
    with open_regular(path) as handle:
        head = handle.read(_SNIFF_BYTES)
    first = head.decode("utf-8-sig", errors="replace").lstrip().lower()
    return first.startswith("rows")


def read_recording(path) -> Recording:
    """One walk from a file of any supported format, as a :class:`gaitcnn.io.Recording`.

    Parameters
    ----------
    path : str or os.PathLike
        An OU-ISIR inertial file (first line ``rows: N``, read by
        :func:`gaitcnn.io.read_ouisir_file`, 100 Hz) or a McGill-like recording with a
        timestamp column (:func:`gaitcnn.io.read_mcgill_file`, optionally ``.gz``).

    Returns
    -------
    Recording
        ``subject_id`` 0 (unknown), ``source`` the file; ``gyr`` is None when the file has no
        gyroscope (an all-zero one, as in OU-ISIR's Android files).

    Raises
    ------
    GaitDataError
        Naming the file (and line) when it is malformed, as the readers do.
    """
    from gaitcnn.io import Recording, read_mcgill_file, read_ouisir_file

    path = Path(path)
    if _is_ouisir_file(path):
        gyr, acc = read_ouisir_file(path)
        timestamps = np.arange(acc.shape[0]) / OUISIR_RATE_HZ
        gyr = gyr if gyr.any() else None
    else:
        timestamps, acc, gyr = read_mcgill_file(path)
    return Recording(
        subject_id=0,
        session="cli",
        walk=path.name,
        timestamps_s=timestamps,
        acc=acc,
        gyr=gyr,
        source=str(path),
    )


# ---- model and store --------------------------------------------------------------------------


def _load_model(model_path: Path, *, calibrated: bool = True):
    """The model at ``model_path``; with ``calibrated``, refuse one without a threshold."""
    from gaitcnn.estimator import GaitModel

    model = GaitModel.load(model_path)
    if calibrated and not getattr(model, "verification_", None):
        raise GaitDataError(
            "the model has no accept threshold: calibrate() it on users held out from "
            "training and save it again",
            path=model_path,
        )
    return model


def _bind_store(model, store_path: Path, *, create: bool):
    """Open the store at ``store_path`` for ``model`` (refusing another model's) and bind it."""
    from gaitcnn.store import TemplateStore, TemplateStoreError

    dim = model.store.embedding_dim  # the model's embedding length (an empty scratch store)
    store = TemplateStore.open(
        store_path, model_fingerprint=model.fingerprint, embedding_dim=dim, create=create
    )
    if not create and len(store) == 0:
        raise TemplateStoreError("no user is enrolled: `gaitcnn enrol` some first", path=store_path)
    model.store = store
    return store


# ---- commands ---------------------------------------------------------------------------------

model_option = click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="A calibrated model file saved by GaitModel.save (preset='verification').",
)


def _store_option(help_text: str):
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


recording_argument = click.argument(
    "recording_path",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)


@click.command("enrol", short_help="Enrol a user from their walks in FILES.")
@model_option
@_store_option("Template store file; created if missing, bound to --model.")
@click.option("--user", "user_id", required=True, help="Id of the user to enrol.")
@click.option("--replace", is_flag=True, help="Replace the template of an enrolled user.")
@click.argument(
    "recording_paths",
    metavar="FILES...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
def enrol_command(model_path, store_path, user_id, replace, recording_paths):
    """Enrol a user from one or more walks (OU-ISIR or McGill-like files).

    The template is the mean embedding of all windows of all FILES. All or nothing: if a
    file cannot be read or holds not enough gait, the store is not changed. The store holds
    templates only (never signals) and is written atomically, readable by its owner only.
    """
    from gaitcnn._locking import file_lock
    from gaitcnn.store import TemplateStoreError

    model = _load_model(model_path, calibrated=False)
    store_path.parent.mkdir(parents=True, exist_ok=True)  # for the lock file next to the store
    with file_lock(store_path, what=f"enrolling in {store_path}"):
        store = _bind_store(model, store_path, create=True)
        if user_id in store and not replace:
            raise TemplateStoreError(
                f"user {user_id!r} is already enrolled; pass --replace to enrol them again",
                path=store_path,
            )
        recordings = [read_recording(path) for path in recording_paths]
        model.enrol(user_id, recordings, replace=replace)
        store.save(store_path)
    n_windows = store.info(user_id)["n_windows"]
    click.echo(
        f"enrolled {user_id}: {n_windows} windows from {len(recordings)} file(s) in {store_path}"
    )


@click.command("verify", short_help="Accept or reject a walk as an enrolled user's.")
@model_option
@_store_option("Template store file written by `gaitcnn enrol` with --model.")
@click.option("--user", "user_id", required=True, help="The enrolled user the walk claims to be.")
@recording_argument
def verify_command(model_path, store_path, user_id, recording_path):
    """Is the walk in FILE the enrolled user's? Prints score, threshold and ACCEPT or REJECT.

    Exit code 0: accepted; 1: rejected; 2: error (unknown user, unreadable file or store, a
    store of another model, a walk with not enough gait).
    """
    model = _load_model(model_path)
    store = _bind_store(model, store_path, create=False)
    store.info(user_id)  # an unknown user is an error before the walk is read
    score, accepted = model.verify(user_id, read_recording(recording_path))
    decision = "ACCEPT" if accepted else "REJECT"
    click.echo(f"{decision} {user_id}: score {score:.4f}, threshold {model.threshold_:.4f}")
    if not accepted:
        click.get_current_context().exit(EXIT_REJECTED)


@click.command("identify", short_help='Name the enrolled user walking in FILE, or "unknown".')
@model_option
@_store_option("Template store file written by `gaitcnn enrol` with --model.")
@recording_argument
def identify_command(model_path, store_path, recording_path):
    """Who among the enrolled users walks in FILE? Prints the user and score, or "unknown".

    "unknown" when no enrolled user's score reaches the model's threshold (the walker is
    none of them). Exit code 0 either way; 2 on an error.
    """
    model = _load_model(model_path)
    _bind_store(model, store_path, create=False)
    user_id, score = model.identify_enrolled(read_recording(recording_path))
    name = "unknown" if user_id is None else user_id
    best = "best score" if user_id is None else "score"
    click.echo(f"{name}: {best} {score:.4f}, threshold {model.threshold_:.4f}")
