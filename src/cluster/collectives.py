"""NumPy arrays through torch.distributed: the few collectives the distributed k-means needs.

Gloo on the CPU, NCCL on CUDA (tensors then travel through the rank's GPU). Every call is a collective: all
ranks of the group make it, in the same order. Without an initialised process group each one is the
single-process identity, so the same code runs under `torchrun` and in a plain process.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

_REDUCE_SECONDS = [0.0]  # wall time this process spent in all_reduce_sum (communication + waiting for peers)


def reduce_seconds() -> float:
    """Seconds this process has spent in `all_reduce_sum`: the per-iteration communication of the distributed
    Lloyd loop, including the wait for the slowest rank."""
    return _REDUCE_SECONDS[0]


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def init_process_group(timeout_s: float = 600.0, backend: str | None = None) -> str:
    """Join the group described by torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR/PORT).

    NCCL when CUDA is present (each rank on GPU `LOCAL_RANK`), gloo otherwise. `timeout_s` bounds every
    collective, so a rank whose peer died raises instead of waiting forever. Returns the backend used.
    """
    if is_distributed():
        return dist.get_backend()
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend=backend, timeout=timedelta(seconds=float(timeout_s)))
    return backend


def close_process_group() -> None:
    if is_distributed():
        dist.destroy_process_group()


def _device() -> torch.device:
    if is_distributed() and dist.get_backend() == "nccl":  # pragma: no cover - GPU only
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(*arrays: np.ndarray) -> list[np.ndarray]:
    """Element-wise sums over ranks (dtype kept: float64 sums, int64 counts)."""
    if not is_distributed():
        return [np.array(a, copy=True) for a in arrays]
    began = time.perf_counter()
    out = []
    for a in arrays:
        t = torch.from_numpy(np.ascontiguousarray(a)).to(_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        out.append(t.cpu().numpy())
    _REDUCE_SECONDS[0] += time.perf_counter() - began
    return out


def all_gather_ints(values: np.ndarray) -> np.ndarray:
    """(world × len) table of every rank's int64 vector (row sizes, per-cluster counts)."""
    v = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
    if not is_distributed():
        return v[None, :].copy()
    t = torch.from_numpy(v).to(_device())
    parts = [torch.empty_like(t) for _ in range(world_size())]
    dist.all_gather(parts, t)
    return torch.stack(parts).cpu().numpy()


def broadcast_array(x: np.ndarray | None, src: int = 0) -> np.ndarray:
    """Rank `src`'s 2-D float32 array on every rank (the others pass None)."""
    if not is_distributed():
        assert x is not None
        return np.array(x, dtype=np.float32, copy=True)
    dev = _device()
    shape = torch.zeros(2, dtype=torch.int64, device=dev)
    if rank() == src:
        assert x is not None
        shape = torch.tensor(x.shape, dtype=torch.int64, device=dev)
    dist.broadcast(shape, src)
    rows, cols = (int(v) for v in shape.cpu())
    if rank() == src:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    else:
        t = torch.empty((rows, cols), dtype=torch.float32, device=dev)
    dist.broadcast(t, src)
    return t.cpu().numpy()


def _padded(x: np.ndarray, cols: int) -> tuple[torch.Tensor, np.ndarray]:
    """`x` (rows × cols float32) padded to the longest of the ranks' blocks, and every rank's row count."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, cols)
    sizes = all_gather_ints(np.array([len(x)]))[:, 0]
    block = np.zeros((int(sizes.max(initial=0)), cols), dtype=np.float32)
    block[: len(x)] = x
    return torch.from_numpy(block).to(_device()), sizes


def gather_rows(x: np.ndarray, cols: int, dst: int = 0) -> list[np.ndarray] | None:
    """Every rank's rows (its own count, possibly 0) on rank `dst`, in rank order; None on the others."""
    if not is_distributed():
        return [np.asarray(x, dtype=np.float32).reshape(-1, cols)]
    t, sizes = _padded(x, cols)
    parts = [torch.empty_like(t) for _ in range(world_size())] if rank() == dst else None
    dist.gather(t, parts, dst=dst)
    if parts is None:
        return None
    return [p[: int(n)].cpu().numpy() for p, n in zip(parts, sizes, strict=True)]


def all_gather_rows(x: np.ndarray, cols: int) -> list[np.ndarray]:
    """Every rank's rows on every rank, in rank order (for small arrays: centroids, not data)."""
    if not is_distributed():
        return [np.asarray(x, dtype=np.float32).reshape(-1, cols)]
    t, sizes = _padded(x, cols)
    parts = [torch.empty_like(t) for _ in range(world_size())]
    dist.all_gather(parts, t)
    return [p[: int(n)].cpu().numpy() for p, n in zip(parts, sizes, strict=True)]
