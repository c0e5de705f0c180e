"""Embedding tables round-trip through parquet + FAISS, also in batches."""

from __future__ import annotations

import faiss
import numpy as np
import pyarrow.parquet as pq

from src.embeddings.store import Embedding, iter_embedding_batches, load_embedding, save_embedding


def test_roundtrip_and_index(tmp_path):
    rng = np.random.default_rng(0)
    emb = Embedding("raw", [f"t{i}" for i in range(100)], rng.normal(size=(100, 8)))
    path = save_embedding(emb, tmp_path)
    assert path == tmp_path / "raw.parquet"
    schema = pq.read_schema(path)
    assert schema.names == ["track_id", "vector"]
    back = load_embedding(path)
    assert back.name == "raw" and back.dim == 8
    assert np.array_equal(back.vectors, emb.vectors) and list(back.track_ids) == list(emb.track_ids)
    index = faiss.read_index(str(tmp_path / "raw.faiss"))
    assert index.ntotal == 100
    _, nn = index.search(emb.vectors[:5], 1)
    assert nn[:, 0].tolist() == [0, 1, 2, 3, 4]
    batches = list(iter_embedding_batches(path, batch_size=30))
    assert [len(ids) for ids, _ in batches] == [30, 30, 30, 10]
    assert np.array_equal(np.concatenate([v for _, v in batches]), emb.vectors)
