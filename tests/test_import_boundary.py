"""The numpy-only stages must not import TensorFlow (fast tests, cheap CLI start-up)."""

import subprocess
import sys

import pytest

NUMPY_ONLY = [
    "gaitcnn",
    "gaitcnn.io",
    "gaitcnn.resample",
    "gaitcnn.cycles",
    "gaitcnn.images",
    "gaitcnn.cache",
    "gaitcnn.prepare",
    "gaitcnn.simulate",
    "gaitcnn.plots",
    "gaitcnn.cli",
    "gaitcnn._atomic",
    "gaitcnn._files",
    "gaitcnn._locking",
    "gaitcnn._processes",
    "gaitcnn.peers.minirocket",  # aeon/numba/sklearn are imported lazily too (tests/test_peers.py)
    "gaitcnn.verification",
    "gaitcnn.verification.plots",
    "gaitcnn.store",
    "gaitcnn.stream",
]


@pytest.mark.parametrize("module", NUMPY_ONLY)
def test_module_does_not_import_tensorflow(module):
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in ('tensorflow', 'keras', 'tflearn') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"
