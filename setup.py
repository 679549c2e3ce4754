"""Build entry point for gaitcnn (tool settings live in pyproject.toml)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "gaitcnn" / "__init__.py").read_text(), re.M
).group(1)

# Ranges here; the exact, tested-together versions are in constraints.txt (see README).
INSTALL_REQUIRES = [
    "tensorflow-cpu>=2.21,<2.22",
    "keras>=3.15,<3.16",
    "tflearn==0.5.0",  # unmaintained; gaitcnn.models._tflearn_compat makes it run on TF 2.21
    "numpy>=1.26,<2.4",  # <2.4 so that aeon resolves to the same numpy
    "scipy>=1.13",
    "h5py>=3.10,<3.15",  # TF 2.21 requires h5py < 3.15
    "click>=8.1",
    "Pillow>=10",
    "matplotlib>=3.8",
    "tqdm>=4.66",
    # MiniRocket (numba): the improved preset's partner and the peer methods
    "aeon==1.6.0",
]

EXTRAS_REQUIRE = {
    "dev": ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "ruff>=0.6"],
    "peers": [],  # kept so that `pip install gaitcnn[peers]` still works; aeon is now required
}

setup(
    name="gaitcnn",
    version=VERSION,
    description=(
        "Gait recognition from wearable IMUs with Angle Embedded Gait Dynamic Images and a CNN "
        "(Zhao & Zhou 2017), with a calibrated walking simulator"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["gaitcnn", "gaitcnn.*"]),
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"console_scripts": ["gaitcnn = gaitcnn.cli:main"]},
    license="MIT",
    classifiers=[
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
