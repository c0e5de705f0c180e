"""The measurements behind `scripts/benchmark_embed.py`: cold-start export of a synthetic catalogue of N tracks.

Writes the catalogue as a CSV chunk by chunk, embeds it with `embed_file` (streaming: `batch_rows` at a time,
sharded parquet), builds the compressed index (`factory`) and the exact one, and reports embed throughput,
peak RSS, index sizes, recall@10 of the compressed index against exact search on held-in queries, and query
latency (one query at a time, and batched).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.embeddings.stream import build_index_streaming, sample_vectors
from src.tasks.embed.cold_start import embed_file

ROOT = Path(__file__).resolve().parents[2]
NOTES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_catalogue(path: Path, n: int, seed: int, chunk: int = 200_000) -> None:
    """N tracks with Spotify-style audio features (8 musical styles), written `chunk` rows at a time."""
    rng = np.random.default_rng(seed)
    styles = rng.uniform(0, 1, (8, 9))
    with path.open("w") as handle:
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            s = rng.integers(0, 8, m)
            base = np.clip(styles[s] + rng.normal(0, 0.08, (m, 9)), 0, 1)
            frame = pd.DataFrame(
                {
                    "track_id": [f"t{i:09d}" for i in range(lo, lo + m)],
                    "track_name": "x",
                    "track_artist": [f"a{i % 50_000}" for i in range(lo, lo + m)],
                    "danceability": base[:, 0],
                    "energy": base[:, 1],
                    "key": rng.integers(0, 12, m),
                    "loudness": -30 + 28 * base[:, 2],
                    "mode": rng.integers(0, 2, m),
                    "speechiness": base[:, 3] * 0.5,
                    "acousticness": base[:, 4],
                    "instrumentalness": base[:, 5],
                    "liveness": base[:, 6] * 0.6,
                    "valence": base[:, 7],
                    "tempo": 60 + 120 * base[:, 8],
                    "duration_ms": rng.integers(90_000, 420_000, m),
                }
            )
            frame.to_csv(handle, header=lo == 0, index=False)


def train_model(work: Path, cfg: DictConfig) -> Path:
    """A small autoencoder (`bottleneck` dims) trained on the bundled catalogue by scripts/train.py."""
    run = work / "model"
    overrides = [
        "logger=none",
        "progress=false",
        f"trainer.max_epochs={int(cfg.model.epochs)}",
        f"model.bottleneck={int(cfg.model.bottleneck)}",
        f"hydra.run.dir={run}",
    ]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), *overrides], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"training the benchmark model failed:\n{proc.stderr[-3000:]}")
    return run


def _search_time(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[float, float]:
    """(ms per query one at a time over the first 200, queries per second batched)."""
    single = queries[:200]
    t0 = time.perf_counter()
    for q in single:
        index.search(q[None, :], k)
    one = (time.perf_counter() - t0) / len(single) * 1e3
    t0 = time.perf_counter()
    index.search(queries, k)
    return one, len(queries) / (time.perf_counter() - t0)


def run_benchmark(cfg: DictConfig, work: Path) -> dict[str, Any]:
    n = int(cfg.n)
    result: dict[str, Any] = {"n": n, "factory": str(cfg.factory), "nprobe": int(cfg.nprobe)}
    model_dir = Path(cfg.model_dir) if cfg.model_dir else train_model(work, cfg)
    csv = work / "catalogue.csv"
    t0 = time.perf_counter()
    write_catalogue(csv, n, int(cfg.seed))
    result["catalogue_seconds"] = time.perf_counter() - t0
    result["catalogue_mib"] = csv.stat().st_size / 2**20
    out = work / "embeddings.parquet"
    rss_before = peak_rss_mib()
    t0 = time.perf_counter()
    summary = embed_file(model_dir, csv, out, batch_rows=int(cfg.batch_rows), shard_rows=int(cfg.shard_rows))
    seconds = time.perf_counter() - t0
    result |= {
        "dim": summary.dim,
        "rows": summary.rows,
        "embed_seconds": seconds,
        "embed_tracks_per_second": summary.rows / seconds,
        "peak_rss_mib_before_embed": rss_before,
        "peak_rss_mib_after_embed": peak_rss_mib(),
        "embedding_mib": sum(p.stat().st_size for p in out.iterdir()) / 2**20,
        "shards": len(list(out.iterdir())),
    }
    t0 = time.perf_counter()
    compressed = build_index_streaming(out, str(cfg.factory), int(cfg.train_rows), int(cfg.seed))
    result["index_build_seconds"] = time.perf_counter() - t0
    exact = build_index_streaming(out, "Flat")
    sizes = {}
    for name, index in (("compressed", compressed), ("exact", exact)):
        faiss.write_index(index, str(work / f"{name}.faiss"))
        sizes[name] = (work / f"{name}.faiss").stat().st_size / 2**20
    result["index_mib"] = sizes
    faiss.ParameterSpace().set_index_parameter(compressed, "nprobe", int(cfg.nprobe))
    queries = sample_vectors(out, int(cfg.queries), int(cfg.seed) + 1)
    queries = queries + np.random.default_rng(0).normal(0, 0.01, queries.shape).astype(np.float32)
    k = 10
    _, truth = exact.search(queries, k)
    _, found = compressed.search(queries, k)
    hits = [len(set(a) & set(b)) for a, b in zip(truth.tolist(), found.tolist(), strict=True)]
    result["recall_at_10"] = float(np.mean(hits) / k)
    for name, index in (("compressed", compressed), ("exact", exact)):
        one, qps = _search_time(index, queries, k)
        result[f"{name}_ms_per_query"] = one
        result[f"{name}_batched_qps"] = qps
    result["faiss_threads"] = faiss.omp_get_max_threads()
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def format_table(r: dict[str, Any]) -> str:
    rows = [
        f"catalogue: {r['n']:,} tracks ({r['catalogue_mib']:.0f} MiB CSV), embedded to {r['dim']} dims",
        f"embed: {r['embed_seconds']:.1f} s = {r['embed_tracks_per_second']:,.0f} tracks/s, "
        f"{r['shards']} parquet shard(s), {r['embedding_mib']:.1f} MiB",
        f"peak RSS: {r['peak_rss_mib_before_embed']:.0f} MiB before embedding, "
        f"{r['peak_rss_mib_after_embed']:.0f} MiB after, {r['peak_rss_mib']:.0f} MiB at the end",
        f"index {r['factory']}: {r['index_mib']['compressed']:.1f} MiB (exact Flat {r['index_mib']['exact']:.1f} MiB), "
        f"built in {r['index_build_seconds']:.1f} s",
        f"recall@10 vs exact (nprobe={r['nprobe']}): {r['recall_at_10']:.3f}",
        f"query latency, one at a time: {r['compressed_ms_per_query']:.3f} ms compressed, "
        f"{r['exact_ms_per_query']:.3f} ms exact; batched: {r['compressed_batched_qps']:,.0f} / "
        f"{r['exact_batched_qps']:,.0f} queries/s",
    ]
    return "\n".join(rows)
