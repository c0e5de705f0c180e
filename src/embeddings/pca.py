"""PCA (optionally whitened) of a feature matrix: the no-learning baseline a learned audio embedding must beat.

Whitening gives every principal direction unit variance, so k-means stops being driven by the few directions
that carry most of the variance of correlated features (energy / loudness / acousticness).
"""

from __future__ import annotations

import numpy as np


def fit_pca(
    X: np.ndarray, n_components: int | None = None, whiten: bool = False, eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, components as columns, per-component scale): project with `(X - mean) @ components / scale`."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    d = len(s) if n_components is None else min(int(n_components), len(s))
    std = s[:d] / np.sqrt(max(len(X) - 1, 1))
    scale = np.maximum(std, eps) if whiten else np.ones(d)
    return mean, vt[:d].T, scale


def pca_transform(X: np.ndarray, mean: np.ndarray, components: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows of `X` in the fitted (whitened) principal axes, float32."""
    return (((np.asarray(X, dtype=np.float64) - mean) @ components) / scale).astype(np.float32)
