"""gaitcnn: gait recognition from wearable IMUs with AE-GDIs and a CNN (Zhao & Zhou 2017).

Importing :mod:`gaitcnn` must stay cheap: it never imports TensorFlow. The numpy-only stages
(``io``, ``resample``, ``cycles``, ``images``, ``cache``, ``simulate``) are importable without it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
