"""Embedding tables too large for memory: written batch by batch (one parquet file, or a directory of parts),
read back batch by batch, and indexed by FAISS in bounded memory.

A compressed index (any FAISS factory string: `IVF4096,PQ16`, `IVF1024,SQ8`, `HNSW32`, …) is trained on a
seeded uniform sample of the written vectors, then filled batch by batch; `Flat` is the exact index.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from src.embeddings.shards import parquet_parts
from src.embeddings.store import table_arrays


def _table(track_ids: np.ndarray, vectors: np.ndarray) -> pa.Table:
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), type=pa.float32())
    return pa.table(
        {
            "track_id": pa.array(np.asarray(track_ids).astype(str), type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]),
        }
    )


class EmbeddingWriter:
    """`track_id` + `vector` rows appended batch by batch to `path`: one parquet file (a row group per batch),
    or with `shard_rows` > 0 a directory `path/` of `part-NNNNN.parquet` files of at most that many rows.
    Written beside the target and renamed onto it by `close()`, so a failed run leaves nothing half-written."""

    def __init__(self, path: str | Path, shard_rows: int = 0) -> None:
        self.path = Path(path)
        self.shard_rows = int(shard_rows)
        self.tmp = self.path.with_name(f".{self.path.name}.partial")
        _remove(self.tmp)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.shard_rows:
            self.tmp.mkdir()
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._part_rows = 0
        self._parts = 0

    def _open(self, schema: pa.Schema) -> pq.ParquetWriter:
        if self._writer is None:
            target = self.tmp / f"part-{self._parts:05d}.parquet" if self.shard_rows else self.tmp
            self._writer = pq.ParquetWriter(target, schema)
            self._parts += 1
            self._part_rows = 0
        return self._writer

    def write(self, track_ids: np.ndarray, vectors: np.ndarray) -> None:
        table = _table(track_ids, vectors)
        start = 0
        while start < len(table):
            room = self.shard_rows - self._part_rows if self.shard_rows else len(table)
            piece = table.slice(start, room)
            self._open(piece.schema).write_table(piece)
            self._part_rows += len(piece)
            start += len(piece)
            if self.shard_rows and self._part_rows >= self.shard_rows:
                self._writer.close()
                self._writer = None
        self.rows += len(table)

    def close(self) -> Path:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        _remove(self.path)
        if not self.shard_rows and not self.tmp.exists():  # nothing written: an empty table, not no file
            pq.write_table(_table(np.empty(0, str), np.zeros((0, 1), np.float32)), self.tmp)
        self.tmp.rename(self.path)
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        _remove(self.tmp)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def iter_vectors(path: str | Path, batch_rows: int = 262_144) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(track_ids, vectors) batches of an embedding parquet file or directory of parts, in row order."""
    for part in parquet_parts(path):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=batch_rows, columns=["track_id", "vector"]):
            yield table_arrays(pa.Table.from_batches([batch]))


def count_rows(path: str | Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in parquet_parts(path))


def sample_vectors(path: str | Path, size: int, seed: int = 0, batch_rows: int = 262_144) -> np.ndarray:
    """A seeded uniform sample of `size` rows (all when fewer), gathered in one streaming pass."""
    n = count_rows(path)
    keep = np.arange(n) if size >= n else np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
    out, first = [], 0
    for _, vectors in iter_vectors(path, batch_rows):
        lo, hi = np.searchsorted(keep, [first, first + len(vectors)])
        out.append(vectors[keep[lo:hi] - first])
        first += len(vectors)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def build_index_streaming(
    path: str | Path,
    factory: str = "Flat",
    train_rows: int = 100_000,
    seed: int = 0,
    batch_rows: int = 262_144,
) -> faiss.Index:
    """A FAISS L2 index from a factory string over the vectors at `path`: trained (when the index needs it)
    on `train_rows` sampled vectors, then filled batch by batch; ids are row numbers in file order."""
    sample = sample_vectors(path, train_rows, seed, batch_rows)
    if sample.size == 0:
        raise ValueError(f"{path}: no vectors to index")
    index = faiss.index_factory(sample.shape[1], str(factory), faiss.METRIC_L2)
    if not index.is_trained:
        index.train(sample)
    for _, vectors in iter_vectors(path, batch_rows):
        index.add(vectors)
    return index
