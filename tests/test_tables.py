"""The one mean ± std table (sample std over seeds) behind compare.py, the sweep report and evaluate_recsys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.report.tables import DDOF, flat_table, mean_std_table, to_markdown
from src.tasks.evaluate_recsys import summary_table


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=6))
def test_std_is_the_sample_std(values):
    frame = pd.DataFrame({"method": "m", "x": values})
    table = mean_std_table(frame, ["x"])
    assert DDOF == 1
    assert table.loc["m", ("x", "mean")] == pytest.approx(np.mean(values), abs=1e-9)
    assert table.loc["m", ("x", "std")] == pytest.approx(np.std(values, ddof=1), abs=1e-6)
    assert int(table.loc["m", ("n_runs", "")]) == len(values)


def test_recsys_summary_uses_the_same_table():
    runs = pd.DataFrame(
        {
            "model": ["als", "als", "pop"],
            "split_seed": [0, 1, 0],
            "recall@100": [0.1, 0.3, 0.05],
            "fit_seconds": [10.2, 11.8, 0.1],
        }
    )
    md = summary_table(runs)
    assert "| model | n | recall@100 | fit_seconds |" in md
    assert "| als | 2 | 0.200 ± 0.141 | 11 |" in md  # ddof=1, seconds as whole numbers
    assert "| pop | 1 | 0.050 | 0 |" in md
    flat = flat_table(mean_std_table(runs, ["recall@100"], by="model"), label="model")
    assert list(flat.columns) == ["model", "recall@100_mean", "recall@100_std", "n_runs"]
    assert to_markdown(mean_std_table(runs, ["recall@100"], by="model")).count("**") == 2


def test_flagged_cells_are_marked_and_never_bold():
    runs = pd.DataFrame(
        {"method": ["raw", "hybrid"], "nmi_genre@k6": [0.10, 0.17], "heldout_lift@24": [2.6, 7.0]}
    )
    table = mean_std_table(runs, ["nmi_genre@k6", "heldout_lift@24"])
    md = to_markdown(table, flagged={("hybrid", "nmi_genre@k6")})
    assert "| raw | 1 | **0.100** | 2.600 |" in md  # the best value that is not in-sample wins
    assert "| hybrid | 1 | 0.170 † | **7.000** |" in md
