"""Continuous evaluation: compare a sweep's metrics with committed expectations and tolerances."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.data.errors import DataError
from src.report.tables import RunInfo


@dataclass
class Check:
    method: str
    metric: str
    expected: float
    tolerance: float
    observed: float | None
    n_runs: int

    @property
    def ok(self) -> bool:
        return self.observed is not None and abs(self.observed - self.expected) <= self.tolerance

    def line(self) -> str:
        seen = "missing" if self.observed is None else f"{self.observed:.4f}"
        verdict = "ok  " if self.ok else "FAIL"
        return (
            f"{verdict} {self.method:<16} {self.metric:<22} expected {self.expected:.4f} ± {self.tolerance:.4f}"
            f"  observed {seen} (mean of {self.n_runs} runs)"
        )


def load_expected(path: str | Path) -> dict[str, dict[str, dict[str, float]]]:
    """`{method: {metric: {"value": v, "tol": t}}}` from a JSON file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected-metrics file not found")
    data = json.loads(path.read_text())
    for method, metrics in data.items():
        if method.startswith("_"):
            continue
        for metric, spec in metrics.items():
            if not {"value", "tol"} <= set(spec):
                raise DataError(f"{path}: {method}/{metric} needs 'value' and 'tol'")
    return {m: v for m, v in data.items() if not m.startswith("_")}


def check_runs(
    runs: list[RunInfo], expected: dict[str, dict[str, dict[str, float]]], methods: list[str] | None = None
) -> list[Check]:
    """One check per expected (method, metric); the observed value is the mean over the method's runs."""
    checks = []
    for method, metrics in expected.items():
        if methods and method not in methods:
            continue
        mine = [r for r in runs if r.method == method]
        for metric, spec in metrics.items():
            values = [r.metrics[metric] for r in mine if metric in r.metrics]
            observed = float(np.mean(values)) if values else None
            checks.append(
                Check(method, metric, float(spec["value"]), float(spec["tol"]), observed, len(values))
            )
    return checks
