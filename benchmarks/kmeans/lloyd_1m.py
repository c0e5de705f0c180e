"""Single-process Lloyd throughput at 1M × 128 (gemm backend), and k-means++ seeding time, for docs/scaling.md."""

import json
import resource
import time

import numpy as np

from src.cluster.gemm_kmeans import n_threads
from src.cluster.kmeans import init_centroids, seed_sample_size
from src.cluster.lloyd import lloyd

rng = np.random.default_rng(0)
n, d, k = 1_000_000, 128, 1024
X = np.empty((n, d), np.float32)
means = rng.normal(0, 3, (256, d)).astype(np.float32)
for lo in range(0, n, 200_000):
    X[lo : lo + 200_000] = means[rng.integers(0, 256, 200_000)] + rng.normal(size=(200_000, d)).astype(
        np.float32
    )
out = {"n": n, "d": d, "k": k, "threads": n_threads()}
start = X[rng.choice(n, k, replace=False)]
t0 = time.perf_counter()
C, it, hist = lloyd(X, start, 1, tol=0, backend="gemm")
out["first_iteration_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
C, it, hist = lloyd(X, start, 3, tol=0, backend="gemm")
s = time.perf_counter() - t0
out["seconds_per_iteration"] = s / 3
out["gflops"] = 2 * n * k * d / out["seconds_per_iteration"] / 1e9
sample = seed_sample_size(n, k)
t0 = time.perf_counter()
init_centroids(X, k, 0)
out["kmeanspp_seconds"] = time.perf_counter() - t0
out["kmeanspp_sample_rows"] = sample
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out, indent=1))
