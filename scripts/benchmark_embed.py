"""Large-catalogue export benchmark: `python scripts/benchmark_embed.py n=N [factory=...] [model_dir=RUN]`.

Synthetic catalogue of N tracks → streaming `scripts/embed.py` path (sharded parquet) → compressed FAISS index
and the exact one. Reports embed throughput, peak RSS, index size, recall@10 of the compressed index against
exact search and query latency; writes `benchmark.json` into the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="benchmark_embed")
@clean_errors
def main(cfg: DictConfig) -> float:
    from benchmarks.embed.bench import format_table, run_benchmark
    from src.utils.io import write_json

    result = run_benchmark(cfg, run_dir())
    path = write_json(run_dir() / "benchmark.json", result)
    print(format_table(result))
    print(f"benchmark: {path.resolve()}")
    return float(result["recall_at_10"])


if __name__ == "__main__":
    main()
