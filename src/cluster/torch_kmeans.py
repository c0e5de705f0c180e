"""The `torch` k-means engine: chunked distance GEMM + fused argmin + ``index_add_`` updates, CUDA or CPU.

Written for the GPU, where one Lloyd iteration is a handful of large kernels per chunk: ``addmm`` gives
``‖c‖² − 2x·c`` (fp32, TF32 or bf16 inputs with fp32 accumulation), ``min(dim=1)`` gives label and distance
in one pass, and ``index_add_`` sums the points per cluster. Empty clusters take half of the largest one
(as FAISS does). On the CPU the same code runs for tests; the `gemm` engine is the fast CPU path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from src.cluster.gemm_kmeans import repair_empty

PRECISIONS = ("fp32", "tf32", "bf16")


def pick_device(device: str | None) -> torch.device:
    """`None`/"auto" means CUDA when present, else the CPU; an explicit "cuda" without a GPU is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asked for, but torch sees no CUDA device")
    return dev


def default_chunk(k: int, device: torch.device) -> int:
    """Rows per distance block: ~256 MiB of distances on a GPU, ~4 MiB on the CPU."""
    budget = (1 << 28) if device.type == "cuda" else (1 << 22)
    return max(256, budget // (4 * k))


@contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """TF32 tensor cores only inside the fit, restoring the global flag afterwards."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {PRECISIONS}")
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def _distances(x: torch.Tensor, C: torch.Tensor, cnorm: torch.Tensor, precision: str) -> torch.Tensor:
    """``‖c‖² − 2x·c`` for a block of points (the ‖x‖² term does not change the argmin)."""
    if precision == "bf16":
        dots = torch.mm(x.to(torch.bfloat16), C.to(torch.bfloat16).T).float()  # fp32 accumulation inside
        return cnorm - 2.0 * dots
    return torch.addmm(cnorm, x, C.T, alpha=-2.0)


@torch.no_grad()
def assign_torch(
    X: torch.Tensor, C: torch.Tensor, chunk: int, precision: str = "fp32"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels and squared distances (clamped at 0) for every row of `X`, one block at a time."""
    cnorm = (C * C).sum(1)
    labels = torch.empty(len(X), dtype=torch.int64, device=X.device)
    dist = torch.empty(len(X), dtype=torch.float32, device=X.device)
    for start in range(0, len(X), chunk):
        x = X[start : start + chunk]
        d, i = _distances(x, C, cnorm, precision).min(dim=1)
        labels[start : start + chunk] = i
        dist[start : start + chunk] = (d + (x * x).sum(1)).clamp_min_(0.0)
    return labels, dist


@torch.no_grad()
def lloyd_torch(
    X: np.ndarray,
    start: np.ndarray,
    n_iter: int,
    tol: float = 1e-4,
    device: str | None = None,
    precision: str = "fp32",
    chunk: int | None = None,
) -> tuple[np.ndarray, int, list[float]]:
    """Lloyd iterations from `start` on `device`; returns centroids, iterations run and inertia per iteration.

    Stops when centroids move less than ``tol × mean feature variance`` (scikit-learn's rule; 0 = never).
    """
    dev = pick_device(device)
    k = len(start)
    Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)).to(dev)
    C = torch.as_tensor(np.array(start, dtype=np.float32)).to(dev)
    chunk = chunk or default_chunk(k, dev)
    threshold = tol * float(Xt.double().var(dim=0, unbiased=False).mean()) if len(Xt) > 1 else 0.0
    history: list[float] = []
    it = 0
    with matmul_precision(precision):
        for it in range(1, n_iter + 1):  # noqa: B007 - `it` is the iteration count returned
            sums = torch.zeros((k, Xt.shape[1]), dtype=torch.float32, device=dev)
            counts = torch.zeros(k, dtype=torch.int64, device=dev)
            inertia = torch.zeros((), dtype=torch.float64, device=dev)
            cnorm = (C * C).sum(1)
            for s in range(0, len(Xt), chunk):
                x = Xt[s : s + chunk]
                d, idx = _distances(x, C, cnorm, precision).min(dim=1)
                inertia += (d + (x * x).sum(1)).clamp_min_(0.0).double().sum()
                sums.index_add_(0, idx, x)
                counts += torch.bincount(idx, minlength=k)
            history.append(float(inertia))
            counts_np = counts.cpu().numpy()
            new = C.cpu().numpy().copy()
            nz = counts_np > 0
            new[nz] = (sums.cpu().numpy()[nz] / counts_np[nz, None]).astype(np.float32)
            repair_empty(new, counts_np.copy())
            new_t = torch.from_numpy(new).to(dev)
            shift = float(((new_t.double() - C.double()) ** 2).sum())
            C = new_t
            if tol > 0 and shift <= threshold:
                break
    return C.cpu().numpy(), it, history
