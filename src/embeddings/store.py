"""Embedding tables on disk: parquet (`track_id`, fixed-size `vector`) and a FAISS index beside it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from src.utils.io import atomic_path


@dataclass
class Embedding:
    """`vectors[i]` embeds `track_ids[i]`; `name` says how it was made (raw, autoencoder, two_tower, …)."""

    name: str
    track_ids: np.ndarray
    vectors: np.ndarray

    def __post_init__(self) -> None:
        self.track_ids = np.asarray(self.track_ids).astype(str)
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if len(self.track_ids) != len(self.vectors):
            raise ValueError("track_ids and vectors differ in length")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def build_index(vectors: np.ndarray) -> faiss.Index:
    """Exact L2 index (IndexFlatL2): small catalogues need no approximation, and results are reproducible."""
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_embedding(embedding: Embedding, directory: str | Path, index: bool = True) -> Path:
    """Write `<directory>/<name>.parquet` (+ `<name>.faiss`), each atomically."""
    directory = Path(directory)
    path = directory / f"{embedding.name}.parquet"
    flat = pa.array(embedding.vectors.reshape(-1), type=pa.float32())
    table = pa.table(
        {
            "track_id": pa.array(embedding.track_ids, type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, embedding.dim),
        }
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    if index:
        with atomic_path(directory / f"{embedding.name}.faiss") as tmp:
            faiss.write_index(build_index(embedding.vectors), str(tmp))
    return path


def table_arrays(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    column = table.column("vector").combine_chunks()
    dim = column.type.list_size if pa.types.is_fixed_size_list(column.type) else len(column[0])
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return np.asarray(table.column("track_id").to_pylist(), dtype=object), values.reshape(-1, dim)


def load_embedding(path: str | Path, name: str | None = None) -> Embedding:
    path = Path(path)
    ids, vectors = table_arrays(pq.read_table(path, columns=["track_id", "vector"]))
    return Embedding(name or path.stem, ids, vectors)


def iter_embedding_batches(
    path: str | Path, batch_size: int = 1_000_000
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream (track_ids, vectors) batches from a large parquet file with bounded memory."""
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=batch_size, columns=["track_id", "vector"]):
        yield table_arrays(pa.Table.from_batches([batch]))
