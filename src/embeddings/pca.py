"""PCA (optionally whitened) of a feature matrix: the no-learning baseline a learned audio embedding must beat.

Whitening gives every principal direction unit variance, so k-means stops being driven by the few directions
that carry most of the variance of correlated features (energy / loudness / acousticness).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


def principal_axes(X: np.ndarray, n_components: int | None = None, whiten: bool = False) -> np.ndarray:
    """Rows of `X` on its first `n_components` principal axes (all with None), whitened or not; float32.
    scikit-learn's exact (full SVD) PCA, fitted on `X` itself."""
    X = np.asarray(X, dtype=np.float64)
    d = min(X.shape) if n_components is None else min(int(n_components), *X.shape)
    pca = PCA(n_components=d, whiten=whiten, svd_solver="full")
    return pca.fit_transform(X).astype(np.float32)
