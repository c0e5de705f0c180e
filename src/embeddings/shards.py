"""One rank's share of a large embedding dataset, read without touching the other ranks' rows.

- `.npy`: a memory map; rank r copies only its contiguous slice of rows.
- parquet (one file, or a directory of `*.parquet` parts as `scripts/embed.py` writes them): the row groups of
  all files in order, split into contiguous runs balanced by rows; rank r reads only its row groups.

Shards are contiguous and in rank order, so concatenating them gives the dataset's row order back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from src.data.errors import DataError
from src.embeddings.store import table_arrays


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rows [lo, hi) of rank `rank` when `n` rows are split into `world` contiguous, near-equal parts."""
    edges = np.linspace(0, n, world + 1).astype(np.int64)
    return int(edges[rank]), int(edges[rank + 1])


def read_npy_shard(path: str | Path, rank: int, world: int) -> tuple[np.ndarray, int]:
    """This rank's rows of a 2-D `.npy` (float32 copy of its slice only) and the index of its first row."""
    data = np.load(path, mmap_mode="r")
    if data.ndim != 2:
        raise DataError(f"{path}: expected a 2-D array of vectors, got shape {data.shape}")
    lo, hi = shard_bounds(len(data), rank, world)
    return np.ascontiguousarray(data[lo:hi], dtype=np.float32), lo


def parquet_parts(path: str | Path) -> list[Path]:
    path = Path(path)
    parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not parts or not parts[0].exists():
        raise DataError(f"{path}: no parquet file (or directory of *.parquet parts) there")
    return parts


def row_groups(parts: list[Path]) -> list[tuple[Path, int, int]]:
    """(file, row group, rows) for every row group of every file, in order."""
    out = []
    for part in parts:
        meta = pq.ParquetFile(part).metadata
        out += [(part, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
    return out


def assign_row_groups(rows: np.ndarray, world: int) -> np.ndarray:
    """Owner rank of each row group: contiguous runs cut where the cumulative rows cross k/world of the total."""
    ends = np.cumsum(rows)
    mids = ends - np.asarray(rows) / 2.0
    total = max(1, int(ends[-1])) if len(ends) else 1
    return np.minimum((mids * world // total).astype(np.int64), world - 1)


def read_parquet_shard(path: str | Path, rank: int, world: int) -> tuple[np.ndarray, np.ndarray, int]:
    """This rank's (track_ids, vectors) from an embedding parquet file or directory, and its first row's
    index in the whole dataset; only its own row groups are read."""
    groups = row_groups(parquet_parts(path))
    owner = assign_row_groups(np.array([g[2] for g in groups], dtype=np.int64), world)
    first = int(sum(g[2] for g, o in zip(groups, owner, strict=True) if o < rank))
    ids, vectors = [], []
    for (part, g, _), o in zip(groups, owner, strict=True):
        if o != rank:
            continue
        table = pq.ParquetFile(part).read_row_group(g)
        if "vector" not in table.column_names or "track_id" not in table.column_names:
            raise DataError(f"{part}: an embedding file needs the columns track_id and vector")
        i, v = table_arrays(table)
        ids.append(i)
        vectors.append(v)
    if not vectors:
        return np.empty(0, dtype=object), np.zeros((0, 0), dtype=np.float32), first
    return np.concatenate(ids), np.concatenate(vectors), first


def read_shard(path: str | Path, rank: int, world: int) -> tuple[np.ndarray | None, np.ndarray, int]:
    """(track_ids or None for `.npy`, vectors, first row) of rank `rank` out of `world`."""
    if str(path).endswith(".npy"):
        vectors, first = read_npy_shard(path, rank, world)
        return None, vectors, first
    return read_parquet_shard(path, rank, world)
