"""The files of a training run in ``out_dir`` (see :mod:`gaitcnn.train`): paths, atomic model
saves, the commit record of a checkpoint, and the checks that make a resume safe.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaitcnn._atomic import atomic_path, remove_stale_temps

__all__ = [
    "RUN_ARTEFACTS",
    "RunPaths",
    "atomic_save_model",
    "check_resume_compatible",
    "load_history",
    "load_state",
    "model_summary",
    "read_json",
    "remove_run",
    "remove_stale_temporaries",
    "sha256",
]

#: Files and folders that make up a training run inside ``out_dir`` (used to detect and,
#: with ``overwrite=True``, remove an earlier run; nothing else in ``out_dir`` is touched).
RUN_ARTEFACTS = (
    "config.json",
    "history.json",
    "tensorboard",
    "checkpoints",
    "best.keras",
    "final.keras",
)


@dataclass(frozen=True)
class RunPaths:
    """Where the artefacts of a run in ``out_dir`` live."""

    out_dir: Path

    @property
    def config(self) -> Path:
        return self.out_dir / "config.json"

    @property
    def history(self) -> Path:
        return self.out_dir / "history.json"

    @property
    def tensorboard(self) -> Path:
        return self.out_dir / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.out_dir / "checkpoints"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.keras"

    @property
    def state(self) -> Path:
        return self.checkpoints / "state.json"

    @property
    def best(self) -> Path:
        return self.out_dir / "best.keras"

    @property
    def final(self) -> Path:
        return self.out_dir / "final.keras"

    def existing_artefacts(self) -> list[str]:
        """Names of :data:`RUN_ARTEFACTS` present in ``out_dir``."""
        return [name for name in RUN_ARTEFACTS if (self.out_dir / name).exists()]

    def as_dict(self) -> dict[str, Path]:
        """Every path by name."""
        names = ("config", "history", "tensorboard", "checkpoints", "last", "state")
        return {name: getattr(self, name) for name in (*names, "best", "final")}


def atomic_save_model(model, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` file next to ``path``, then rename."""
    with atomic_path(path, suffix=".keras") as tmp:  # .best.keras.<pid>-<random>.keras
        model.save(tmp, overwrite=True)


def remove_stale_temporaries(paths: RunPaths) -> list[Path]:
    """Delete the temporary files that killed writers left in the run folder; return them.

    E.g. the empty ``.best.keras.<pid>-<random>.keras`` of an interrupted save. Files of live
    writers are kept.
    """
    return [p for folder in (paths.out_dir, paths.checkpoints) for p in remove_stale_temps(folder)]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def model_summary(model) -> dict[str, Any]:
    """Name, input and output shapes (without the batch axis) and parameter count."""

    def shape(tensor) -> list | None:
        try:
            return [None if d is None else int(d) for d in tensor.shape[1:]]
        except (AttributeError, TypeError):
            return None

    return {
        "name": model.name,
        "input_shape": shape(model.inputs[0]) if getattr(model, "inputs", None) else None,
        "output_shape": shape(model.outputs[0]) if getattr(model, "outputs", None) else None,
        "n_params": int(model.count_params()),
    }


def check_resume_compatible(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    defaults: Mapping[str, Any],
    model_info: Mapping[str, Any],
    resumable: frozenset,
) -> None:
    """Refuse to resume a run whose training settings or model differ from the saved ones.

    Parameters
    ----------
    saved : mapping
        The run's ``config.json``.
    current, defaults : mapping
        The TrainConfig of this call, and the defaults (fields missing from an older
        ``config.json`` had their default value then).
    model_info : mapping
        :func:`model_summary` of the model about to be trained.
    resumable : frozenset of str
        Fields that may change on resume.
    """
    saved_train = {**defaults, **dict(saved.get("train", {}))}
    differences = sorted(
        key
        for key in set(saved_train) | set(current)
        if key not in resumable and saved_train.get(key) != current.get(key)
    )
    if differences:
        details = ", ".join(
            f"{key}: saved {saved_train.get(key)!r} != now {current.get(key)!r}"
            for key in differences
        )
        raise ValueError(
            f"Cannot resume: the TrainConfig differs from the run's config.json ({details}). "
            f"Only {', '.join(sorted(resumable))} may change on resume."
        )
    saved_model = saved.get("model", {})
    for key in ("input_shape", "output_shape", "n_params"):
        if key in saved_model and saved_model[key] != model_info[key]:
            raise ValueError(
                f"Cannot resume: the model differs from the run's ({key}: saved "
                f"{saved_model[key]!r} != now {model_info[key]!r})."
            )


def remove_run(paths: RunPaths) -> None:
    """Delete the artefacts of a run (:data:`RUN_ARTEFACTS` only)."""
    for name in RUN_ARTEFACTS:
        target = paths.out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def load_state(paths: RunPaths) -> dict[str, Any] | None:
    """The commit record of the last checkpoint, checked against the checkpoint file."""
    if not paths.state.exists():
        return None
    state = read_json(paths.state)
    if not paths.last.exists():
        raise FileNotFoundError(f"{paths.state} names a checkpoint, but {paths.last} is missing.")
    if sha256(paths.last) != state["checkpoint_sha256"]:
        raise ValueError(
            f"{paths.last} does not match {paths.state} (checksum differs): the run was "
            "interrupted while saving its checkpoint. Start again with overwrite=True."
        )
    return state


def load_history(paths: RunPaths, completed_epochs: int) -> dict[str, list]:
    """``history.json`` cut to the epochs the last checkpoint committed."""
    if not paths.history.exists():
        return {}
    history = read_json(paths.history)
    # history.json may run ahead of the checkpoint: drop epochs that were never committed.
    return {key: list(values)[:completed_epochs] for key, values in history.items()}
