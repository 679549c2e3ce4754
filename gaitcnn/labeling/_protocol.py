"""The pure steps of the labeling protocol (paper section 4.2): parameters, split, summary.

numpy only. The run (:mod:`gaitcnn.labeling._run`) wires them to the data, the estimator and
the result files.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np

from gaitcnn.fusion import Fused, class_ranks, cmc_curve
from gaitcnn.io import OUISIR_SUBSETS
from gaitcnn.presets import ModelConfig

__all__ = [
    "MAX_PROBE_WINDOWS",
    "PAPER_N_SUBJECTS",
    "LabelingParams",
    "LabelingSplit",
    "draw_subjects",
    "make_split",
    "sequence_rows",
    "summarise",
]

#: The paper's full OU-ISIR labeling set (automatic-extraction subset).
PAPER_N_SUBJECTS = 744

#: Largest N (probe images per sequence) reported in ``accuracy_by_n`` (Figure 8).
MAX_PROBE_WINDOWS = 6

#: OU-ISIR subsets the loader knows.
SUBSETS = OUISIR_SUBSETS


@dataclass(frozen=True)
class LabelingParams:
    """Resolved settings of one labeling run (saved as ``config.json``).

    Attributes
    ----------
    n_subjects : int
        K, the number of subjects drawn (classes of the model). [P] 744 at most.
    subset : str
        OU-ISIR subset: ``"auto"``, ``"automatic"`` (seq0 -> seq1) or ``"manual"``
        (Walk1 -> Walk2).
    sensor : str or None
        Manual-subset sensor folder (``"center"``, ``"left"``, ``"right"``, ``"android"``);
        None = the centre IMU.
    seed : int
        Subject draw, and the model's weights, dropout and shuffling.
    model : ModelConfig
        The model (preset, method, front end, network, training).
    """

    n_subjects: int = PAPER_N_SUBJECTS
    subset: str = "auto"
    sensor: str | None = None
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self):
        """Validate the protocol fields; the model carries the run's seed."""
        if not (isinstance(self.n_subjects, int) and self.n_subjects >= 2):
            raise ValueError(f"n_subjects must be an integer >= 2. Received: {self.n_subjects!r}")
        if self.subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}. Received: {self.subset!r}")
        from gaitcnn.io import OUISIR_SENSORS

        if self.sensor is not None and self.sensor not in OUISIR_SENSORS:
            raise ValueError(
                f"sensor must be one of {tuple(OUISIR_SENSORS)} or None. Received: {self.sensor!r}"
            )
        if self.model.seed != self.seed:
            object.__setattr__(self, "model", self.model.replace(seed=self.seed))

    @classmethod
    def from_preset(cls, preset: str = "paper", *, n_subjects: int = PAPER_N_SUBJECTS,
                    subset: str = "auto", sensor: str | None = None, seed: int = 0,
                    **model_fields) -> LabelingParams:  # fmt: skip
        """Protocol fields plus ``ModelConfig.from_preset(preset, **model_fields)``."""
        model = ModelConfig.from_preset(preset, seed=seed, **model_fields)
        return cls(n_subjects=n_subjects, subset=subset, sensor=sensor, seed=seed, model=model)

    def prepare_params(self, channels=None):
        """The front end of the model, with this run's OU-ISIR loader options."""
        return self.model.prepare_params(
            "ouisir", channels=channels, subset=self.subset, sensor=self.sensor
        )

    def to_dict(self) -> dict:
        """Plain JSON-able dict (the model as a nested dict)."""
        values = dataclasses.asdict(self)
        values["model"] = self.model.to_dict()
        return json.loads(json.dumps(values))


def draw_subjects(pool, k: int, seed: int) -> np.ndarray:
    """Draw ``k`` subjects at random from ``pool``, reproducibly and nested in ``k``.

    The draw is the first ``k`` entries of one seeded permutation of the sorted pool, so for a
    fixed seed the subjects of a smaller K are a subset of those of a larger K (Figure 7 then
    compares nested galleries, not unrelated ones).

    Parameters
    ----------
    pool : array-like of int, shape (n_pool,)
        Candidate subject ids (duplicates are ignored).
    k : int
        Number wanted; when it exceeds the pool, the whole pool is returned.
    seed : int
        Seed of the permutation.

    Returns
    -------
    np.ndarray of int64, shape (min(k, n_pool),)
        The chosen subject ids, sorted (class index = position).

    Examples
    --------
    >>> draw_subjects([5, 3, 9, 1], 2, seed=0).tolist() == sorted(draw_subjects([1, 3, 5, 9], 2, 0))
    True
    """
    pool = np.unique(np.asarray(pool, dtype=np.int64))
    if k < 1:
        raise ValueError(f"k must be >= 1, received: k={k!r}")
    order = np.random.default_rng(seed).permutation(pool.size)
    return np.sort(pool[order[: min(k, pool.size)]])


@dataclass(frozen=True)
class LabelingSplit:
    """Subjects, gallery rows and probe sequences of one labeling run.

    Attributes
    ----------
    pool : list of int
        Subjects with at least one gallery and one probe walk (segment), sorted.
    chosen : np.ndarray of int64, shape (n_classes,)
        ``draw_subjects(pool, K, seed)``; class index = position.
    gallery_rows, gallery_labels : np.ndarray of int64
        Cache rows of the chosen subjects' gallery images and their class index.
    probe_sequences : list of str
        Sorted keys ``"<subject>/<session>/<walk>"`` of the chosen subjects' probe walks.
    probe_labels : np.ndarray of int64, shape (n_sequences,)
        Class index of each probe sequence.
    probe_rows, probe_owner : np.ndarray of int64
        Cache rows of the probe images in temporal order (walk, then start) and the probe
        sequence each belongs to.
    n_gallery_walks : int
    classes_without_gallery : list of int
        Class indices with no gallery image (they stay classes of the model).
    """

    pool: list
    chosen: np.ndarray
    gallery_rows: np.ndarray
    gallery_labels: np.ndarray
    probe_sequences: list
    probe_labels: np.ndarray
    probe_rows: np.ndarray
    probe_owner: np.ndarray
    n_gallery_walks: int
    classes_without_gallery: list


def make_split(image_set, n_subjects: int, seed: int) -> LabelingSplit:
    """The subject draw and the gallery / probe rows, from a cache's metadata.

    The pool depends on the recordings only (not on how many images a method makes from them),
    so every method with the same seed draws the same K subjects and probes the same walks.

    Parameters
    ----------
    image_set : gaitcnn.cache.ImageSet
        The cache's metadata (``load_images=False`` is enough).
    n_subjects : int
        K (the whole pool when larger).
    seed : int

    Returns
    -------
    LabelingSplit

    Raises
    ------
    ValueError
        Fewer than two subjects with both a gallery and a probe walk.
    """
    recordings = image_set.recordings
    subjects = {s: {int(r["subject_id"]) for r in recordings if r["session"] == s}
                for s in ("gallery", "probe")}  # fmt: skip
    pool = sorted(subjects["gallery"] & subjects["probe"])
    if len(pool) < 2:
        raise ValueError(f"need >= 2 subjects with gallery and probe walks, found {len(pool)}")
    chosen = draw_subjects(pool, n_subjects, seed)
    class_of = {int(s): i for i, s in enumerate(chosen)}
    in_draw = np.isin(image_set.subject_ids, chosen)
    sessions = image_set.sessions
    gallery_rows = np.flatnonzero(in_draw & (sessions == "gallery"))
    gallery_labels = np.array([class_of[int(s)] for s in image_set.subject_ids[gallery_rows]],
                              dtype=np.int64)  # fmt: skip
    probe_walks = [r for r in recordings if r["session"] == "probe" and r["subject_id"] in class_of]
    sequences = sorted({r["key"] for r in probe_walks})
    subject_of = {r["key"]: int(r["subject_id"]) for r in probe_walks}
    probe_rows = np.flatnonzero(in_draw & (sessions == "probe"))
    # temporal order within each walk (segment, then start): Figure 8 fuses the first N
    probe_rows = probe_rows[np.lexsort((image_set.starts[probe_rows],
                                        image_set.recording_index[probe_rows]))]  # fmt: skip
    keys = np.array([r["key"] for r in recordings], dtype=object)
    position = {key: i for i, key in enumerate(sequences)}
    owner = [position[k] for k in keys[image_set.recording_index[probe_rows]]]
    gallery_walks = {r["key"] for r in recordings
                     if r["session"] == "gallery" and r["subject_id"] in class_of}  # fmt: skip
    return LabelingSplit(
        pool=pool,
        chosen=chosen,
        gallery_rows=gallery_rows,
        gallery_labels=gallery_labels,
        probe_sequences=sequences,
        probe_labels=np.array([class_of[subject_of[s]] for s in sequences], dtype=np.int64),
        probe_rows=probe_rows,
        probe_owner=np.asarray(owner, dtype=np.int64),
        n_gallery_walks=len(gallery_walks),
        classes_without_gallery=sorted(set(range(chosen.size)) - set(gallery_labels.tolist())),
    )


def summarise(fused: Fused, y_true: np.ndarray, by_n: dict[int, Fused]) -> dict:
    """Labeling metrics of the fused probe sequences.

    A sequence without any image counts as an error at every rank.

    Parameters
    ----------
    fused : gaitcnn.fusion.Fused
        Whole-sequence fused scores, one row per probe sequence.
    y_true : np.ndarray of int, shape (n_sequences,)
    by_n : dict of int to Fused
        The same fused over the first N images (Figure 8).

    Returns
    -------
    dict
        ``accuracy``, ``top5``, ``cmc``, ``accuracy_by_n``, ``accuracy_on_sequences_with_images``,
        ``mean_images_per_probe_sequence``, ``n_probe_sequences(_without_images)``,
        ``n_correct``.
    """
    n_seq, n_classes = fused.scores.shape
    ranks = class_ranks(fused.scores, y_true)
    correct = ranks == 1
    cmc = cmc_curve(ranks, n_classes)
    with_images = fused.n_used > 0
    nan = float("nan")
    return {
        "accuracy": float(correct.mean()) if n_seq else nan,
        "top5": float(cmc[min(5, n_classes) - 1]) if n_seq else nan,
        "cmc": [float(v) for v in cmc],
        "accuracy_by_n": {
            str(n): float((class_ranks(f.scores, y_true) == 1).mean()) if n_seq else nan
            for n, f in by_n.items()
        },
        "accuracy_on_sequences_with_images": (
            float(correct[with_images].mean()) if with_images.any() else nan
        ),
        "mean_images_per_probe_sequence": float(fused.n_used.mean()) if n_seq else 0.0,
        "n_probe_sequences": int(n_seq),
        "n_probe_sequences_without_images": int((~with_images).sum()),
        "n_correct": int(correct.sum()),
    }


def sequence_rows(split: LabelingSplit, fused: Fused) -> list[dict]:
    """One row per probe sequence for ``sequences.csv``: truth, decision, rank, correct."""
    ranks = class_ranks(fused.scores, split.probe_labels)
    n_classes = fused.scores.shape[1]
    rows = []
    for i, sequence in enumerate(split.probe_sequences):
        has = fused.n_used[i] > 0
        predicted = int(np.argmax(fused.scores[i])) if has else -1
        rows.append(
            {
                "sequence": sequence,
                "subject_id": int(split.chosen[split.probe_labels[i]]),
                "true_class": int(split.probe_labels[i]),
                "predicted_class": predicted,
                "predicted_subject": int(split.chosen[predicted]) if has else "",
                "n_images": int(fused.n_used[i]),
                "rank": int(ranks[i]) if ranks[i] <= n_classes else "",
                "correct": int(ranks[i] == 1),
            }
        )
    return rows
