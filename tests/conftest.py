"""Shared pytest setup: seeding, markers and the TensorFlow soft-dependency skip."""

from __future__ import annotations

import importlib.util
import os
import random

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HAS_TF = importlib.util.find_spec("tensorflow") is not None


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed numpy's legacy global state and ``random`` so stray randomness is repeatable."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - legacy global seeding on purpose
    yield


def pytest_collection_modifyitems(config, items):
    """Skip ``tf``-marked tests when TensorFlow is not installed."""
    if HAS_TF:
        return
    skip = pytest.mark.skip(reason="TensorFlow is not installed")
    for item in items:
        if "tf" in item.keywords:
            item.add_marker(skip)
