"""The `torch` k-means backend: chunked distance GEMM + fused argmin + ``index_add_`` sums, CUDA or CPU.

Written for the GPU, where one Lloyd iteration is a handful of large kernels per chunk: ``addmm`` gives
``‖c‖² − 2x·c`` (fp32, TF32 or bf16 inputs with fp32 accumulation), ``min(dim=1)`` gives label and distance
in one pass, and ``index_add_`` sums the points per cluster; the update, empty-cluster repair and stopping
rule are the shared loop's (`src/cluster/lloyd.py`). On the CPU the same code runs for tests; the `gemm`
backend is the fast CPU path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

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


class TorchBackend:
    """The `torch` backend of `src.cluster.lloyd.lloyd`: the rows live on `device`; each iteration sends the
    centroids there and brings back the inertia, the per-cluster sums and the counts.
    """

    def __init__(
        self,
        X: np.ndarray,
        k: int,
        device: str | None = None,
        precision: str = "fp32",
        chunk: int | None = None,
    ) -> None:
        self.dev = pick_device(device)
        self.k = k
        self.precision = precision
        self.Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)).to(self.dev)
        self.chunk = chunk or default_chunk(k, self.dev)

    def __enter__(self) -> TorchBackend:
        self._precision = matmul_precision(self.precision)
        self._precision.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._precision.__exit__(*exc)

    @torch.no_grad()
    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Column sums and sums of squares on the device, one float64 chunk at a time: never a float64 copy
        of the whole matrix (5 GB at 10M × 64) next to the data."""
        d = self.Xt.shape[1]
        total = torch.zeros(d, dtype=torch.float64, device=self.dev)
        squares = torch.zeros(d, dtype=torch.float64, device=self.dev)
        for s in range(0, len(self.Xt), self.chunk):
            x = self.Xt[s : s + self.chunk].double()
            total += x.sum(0)
            squares += (x * x).sum(0)
        return len(self.Xt), total.cpu().numpy(), squares.cpu().numpy()

    @torch.no_grad()
    def assign_and_sum(self, C: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        Xt, k, dev = self.Xt, self.k, self.dev
        Ct = torch.from_numpy(np.ascontiguousarray(C, dtype=np.float32)).to(dev)
        sums = torch.zeros((k, Xt.shape[1]), dtype=torch.float32, device=dev)
        counts = torch.zeros(k, dtype=torch.int64, device=dev)
        inertia = torch.zeros((), dtype=torch.float64, device=dev)
        cnorm = (Ct * Ct).sum(1)
        for s in range(0, len(Xt), self.chunk):
            x = Xt[s : s + self.chunk]
            d, idx = _distances(x, Ct, cnorm, self.precision).min(dim=1)
            inertia += (d + (x * x).sum(1)).clamp_min_(0.0).double().sum()
            sums.index_add_(0, idx, x)
            counts += torch.bincount(idx, minlength=k)
        return float(inertia), sums.cpu().numpy().astype(np.float64), counts.cpu().numpy()
