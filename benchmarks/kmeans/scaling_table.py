"""The N × K scaling table of docs: project `gemm` engine and faiss side by side, one benchmark run per cell.

Runs `scripts/benchmark_kmeans.py case=a` with N and K overridden (D = 32, 20 Lloyd iterations on every row,
the same data and start for both engines, in one process), then writes `scaling.json` and `scaling.md` here.

    PYTHONPATH=. .venv/bin/python benchmarks/kmeans/scaling_table.py OUT_DIR [--collect-only]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NS = (100_000, 1_000_000, 10_000_000)
KS = (64, 256, 1024)


def cell(out: Path, n: int, k: int, run: bool) -> dict:
    run_dir = out / f"n{n}_k{k}"
    if run:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "benchmark_kmeans.py"),
                "case=a",
                f"cases.a.n={n}",
                f"cases.a.k={k}",
                "cases.a.engines=[gemm,faiss]",
                "cases.a.reference=[faiss]",
                "repeats=1",
                f"hydra.run.dir={run_dir}",
            ],
            check=True,
        )
    result = json.loads((run_dir / "benchmark.json").read_text())
    gemm, faiss = result["engines"]["gemm"], result["engines"]["faiss"]
    return {
        "n": n,
        "k": k,
        "gemm_s": gemm["seconds"],
        "faiss_s": faiss["seconds"],
        "ratio": gemm["seconds"] / faiss["seconds"],
        "gemm_gflops": gemm["gflops"],
        "faiss_gflops": faiss["gflops"],
        "inertia_rel_diff": gemm["inertia_rel_diff_vs_faiss"],
        "peak_rss_mib": result["peak_rss_mib"],
        "blas": [b["architecture"] for b in result["blas"]],
    }


def main() -> None:
    out = Path(sys.argv[1])
    cells = [cell(out, n, k, "--collect-only" not in sys.argv) for n in NS for k in KS]
    here = Path(__file__).parent
    (here / "scaling.json").write_text(json.dumps(cells, indent=1) + "\n")
    lines = [
        "| N \\ K | " + " | ".join(f"K = {k}: gemm / faiss s (ratio)" for k in KS) + " |",
        "|---|" + "---|" * len(KS),
    ]
    for n in NS:
        row = [c for c in cells if c["n"] == n]
        lines.append(
            f"| {n:,} | "
            + " | ".join(f"{c['gemm_s']:.2f} / {c['faiss_s']:.2f} ({c['ratio']:.2f})" for c in row)
            + " |"
        )
    (here / "scaling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
