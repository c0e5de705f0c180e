"""Two-tower scoring at catalogue scale, side by side: `python scripts/benchmark_recsys.py [overrides]`.

New path (`TwoTowerModule.retrieve`: FAISS candidates per history track and from the mean direction, exact
`lse` scores over their union, batches of `batch_size` playlists) against the dense reference
(`score_histories`: a batch × catalogue block + argpartition top-k), on synthetic clustered item vectors for
each catalogue size. Reports seconds per 1000 playlists and their ratio (interleaved in this process), peak RSS
of each method in its own child process, and how much of the exact top-k the retrieved lists hold. Writes
`benchmark.json` and `benchmark.md` into the run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="benchmark_recsys")
@clean_errors
def main(cfg: DictConfig) -> float:
    from benchmarks.recsys.bench import format_table, markdown_table, profile_table, run_benchmark
    from src.utils.io import write_json, write_text

    result = run_benchmark(cfg)
    path = write_json(run_dir() / "benchmark.json", result)
    write_text(run_dir() / "benchmark.md", markdown_table(result) + "\n\n" + profile_table(result) + "\n")
    print(format_table(result))
    print(f"benchmark: {path.resolve()}")
    last = result["catalogues"][-1] if result["catalogues"] else {}
    return float(last.get("new", {}).get("dense_over_this", float("nan")))


if __name__ == "__main__":
    main()
