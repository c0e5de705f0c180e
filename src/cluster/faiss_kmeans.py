"""The `faiss` k-means backend: nearest centroid through a flat L2 faiss index, on the GPU when available.

Each iteration loads the centroids into an ``IndexFlatL2`` (a ``GpuIndexFlatL2`` when faiss was built with
GPU support and ``device`` asks for CUDA), searches every row for its nearest one and sums the rows per
cluster on the host; the update, empty-cluster repair and stopping rule are the shared loop's
(`src/cluster/lloyd.py`).
"""

from __future__ import annotations

import numpy as np

from src.cluster.gemm_kmeans import cluster_sums
from src.cluster.lloyd import column_moments


def faiss_gpu_available() -> bool:
    """True when the installed faiss was built with GPU support and sees a device."""
    try:
        import faiss

        return hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0
    except Exception:  # pragma: no cover - faiss missing or broken
        return False


class FaissBackend:
    """The `faiss` backend of `src.cluster.lloyd.lloyd`."""

    def __init__(self, X: np.ndarray, k: int, device: str | None = None) -> None:
        import faiss

        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.k = k
        self.index = faiss.IndexFlatL2(self.X.shape[1])
        if device and str(device).startswith("cuda") and faiss_gpu_available():  # pragma: no cover - GPU only
            self._resources = faiss.StandardGpuResources()
            self.index = faiss.index_cpu_to_gpu(self._resources, 0, self.index)

    def __enter__(self) -> FaissBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.index.reset()

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        return column_moments(self.X)

    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        self.index.reset()
        self.index.add(np.ascontiguousarray(C, dtype=np.float32))
        dist, idx = self.index.search(self.X, 1)
        labels = idx[:, 0].astype(np.int64)
        inertia = float(np.maximum(dist[:, 0], 0.0).astype(np.float64).sum())
        return inertia, cluster_sums(self.X, labels, self.k), np.bincount(labels, minlength=self.k)
