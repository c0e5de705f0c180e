"""The one mean ± std table of the project: runs (method, seed, metrics) → methods × (metric, mean|std).

The standard deviation is the sample one (ddof=1) across seeds; a method with one run has no std (shown as the
mean alone). Used by `scripts/compare.py`, the sweep report and `scripts/evaluate_recsys.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DDOF = 1  # sample standard deviation over seeds
LOWER_IS_BETTER = (
    "davies_bouldin",
    "inertia",
    "duration_error",
    "transition_",
    "fit_seconds",
    "train_seconds",
)


@dataclass
class RunInfo:
    """One run: where it is, which method and seed it was, its flat metrics and W&B group."""

    path: Path
    method: str
    seed: int | None
    metrics: dict[str, float]
    group: str | None = None
    learned_from_playlists: bool = (
        False  # its embedding was trained on playlist membership (in-sample labels)
    )


def higher_is_better(metric: str) -> bool:
    return not any(metric.startswith(p) for p in LOWER_IS_BETTER)


def mean_std_table(frame: pd.DataFrame, metrics: Sequence[str], by: str = "method") -> pd.DataFrame:
    """Rows = values of `by` (order as first seen), columns = (metric, mean|std) plus `n_runs`."""
    order = list(dict.fromkeys(frame[by]))
    grouped = frame.groupby(by, sort=False)[list(metrics)]
    table = pd.concat({"mean": grouped.mean(), "std": grouped.std(ddof=DDOF)}, axis=1).swaplevel(axis=1)
    table = table.reindex(columns=pd.MultiIndex.from_product([list(metrics), ["mean", "std"]])).loc[order]
    table["n_runs"] = frame.groupby(by, sort=False).size().loc[order]
    return table


def best_methods(table: pd.DataFrame, flagged: Collection[tuple[str, str]] = ()) -> dict[str, str]:
    """The best method per metric (direction by metric name); `flagged` (method, metric) cells never win."""
    out = {}
    for metric in dict.fromkeys(c[0] for c in table.columns if c[0] != "n_runs"):
        col = table[(metric, "mean")].astype(float)
        col = col[[(method, metric) not in flagged for method in col.index]]
        if col.notna().any():
            out[metric] = str(col.idxmax() if higher_is_better(metric) else col.idxmin())
    return out


def to_markdown(
    table: pd.DataFrame,
    plain: Sequence[str] = (),
    bold_best: bool = True,
    label: str = "method",
    flagged: Collection[tuple[str, str]] = (),
) -> str:
    """'mean ± std' cells (3 decimals; `plain` metrics as whole numbers without std), the best in bold.
    `flagged` (method, metric) cells (in-sample values) get a † and are never bold."""
    best = best_methods(table, flagged) if bold_best else {}
    metrics = [  # columns no method has a value for are left out
        m
        for m in dict.fromkeys(c[0] for c in table.columns if c[0] != "n_runs")
        if table[(m, "mean")].notna().any()
    ]
    lines = [f"| {label} | n | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for method, row in table.iterrows():
        cells = []
        for m in metrics:
            mean, std = row[(m, "mean")], row[(m, "std")]
            if pd.isna(mean):
                cell = "—"
            elif m in plain:
                cell = f"{mean:.0f}"
            else:
                cell = f"{mean:.3f}" + ("" if pd.isna(std) else f" ± {std:.3f}")
            if (method, m) in flagged and not pd.isna(mean):
                cell += " †"
            cells.append(f"**{cell}**" if best.get(m) == method else cell)
        lines.append(f"| {method} | {int(row[('n_runs', '')])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def flat_table(table: pd.DataFrame, label: str = "method") -> pd.DataFrame:
    """Single-level columns (`metric_mean`, `metric_std`, `n_runs`) for CSV and W&B."""
    flat = table.copy()
    flat.columns = [c[0] if c[0] == "n_runs" else f"{c[0]}_{c[1]}" for c in table.columns]
    return flat.reset_index().rename(columns={"index": label})
