"""Fail loudly when a sweep's metrics leave the committed expectations (benchmarks/expected_metrics.json).

`make eval` runs the standard experiments with fixed seeds and then this script; exit code 1 on a regression.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="check_metrics")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.check_metrics import check_runs, load_expected
    from src.tasks.compare import find_runs
    from src.utils.io import write_json

    inputs = OmegaConf.to_container(cfg.inputs) if not isinstance(cfg.inputs, str) else [cfg.inputs]
    methods = OmegaConf.to_container(cfg.methods) if cfg.methods else None
    checks = check_runs(find_runs(inputs), load_expected(cfg.expected), methods)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    write_json(run_dir() / "checks.json", [{**c.__dict__, "ok": c.ok} for c in checks])
    if not checks:
        print("error: no expectations matched the runs", file=sys.stderr)
        sys.exit(1)
    if failed:
        print(f"REGRESSION: {len(failed)} of {len(checks)} checks failed", file=sys.stderr)
        sys.exit(1)
    print(f"all {len(checks)} checks passed")


if __name__ == "__main__":
    main()
