"""A tiny verification-preset GaitModel for the on-device tests (export, streaming parity).

Trained one epoch on 4 simulated OU-ISIR subjects; the other 2 are users it never saw: both
calibrate the threshold (a test fixture, not a protocol), the first is enrolled.
"""

from __future__ import annotations

from pathlib import Path

#: Tiny embedding network (names of gaitcnn.models.embedding.TEST_HPARAMS).
TINY_HPARAMS = {
    "embedding_dim": 8,
    "filters": (4, 8),
    "kernel_size": 3,
    "n_pooled_blocks": 1,
    "dropout_rate": 0.1,
}

#: The enrolled user (a subject the model never saw).
USER = "enrolled"


def tiny_verification_model(tmp_dir: Path):
    """``(model, enrolled probe walk, impostor probe walk)``; ``model.store`` holds :data:`USER`."""
    from gaitcnn import GaitModel, load_ouisir
    from gaitcnn.prepare import ensure_simulated

    root = ensure_simulated("ouisir", cache_dir=tmp_dir, n_subjects=6)
    recs = load_ouisir(root, subset="manual")
    subjects = sorted({r.subject_id for r in recs})
    train, unseen = subjects[:4], subjects[4:]
    model = GaitModel(preset="verification", epochs=1, hparams=TINY_HPARAMS)
    model.fit([r for r in recs if r.subject_id in train])
    gallery = [r for r in recs if r.subject_id in unseen and r.session == "gallery"]
    probes = [r for r in recs if r.subject_id in unseen and r.session == "probe"]
    model.calibrate(gallery, probes)
    model.enrol(USER, [gallery[0]])
    genuine = next(r for r in probes if r.subject_id == gallery[0].subject_id)
    impostor = next(r for r in probes if r.subject_id != gallery[0].subject_id)
    return model, genuine, impostor
