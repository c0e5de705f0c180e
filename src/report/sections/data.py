"""Where the numbers came from: the embedding comparison table and what the loader dropped or imputed."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from src.report.html import Section


def comparison_section(comparison: pd.DataFrame) -> Section:
    """Raw vs learned embeddings side by side (evaluation.compare_embeddings)."""
    table = comparison.to_html(border=0, float_format=lambda v: f"{v:.3f}")
    return Section("comparison", "Embeddings compared", Markup(table), nav="Compared")


def data_section(data_report: dict) -> Section:
    """The data report flattened to one row per count (dropped / imputed / parsed by reason)."""
    flat = {k: v for k, v in data_report.items() if not isinstance(v, dict | list)}
    for key in ("dropped", "imputed", "parsed"):
        for what, n in data_report.get(key, {}).items():
            flat[f"{key}: {what}"] = n
    for note in data_report.get("notes", []):
        flat.setdefault("notes", "")
        flat["notes"] = f"{flat['notes']} {note}".strip()
    table = pd.DataFrame(list(flat.items()), columns=["item", "value"]).to_html(index=False, border=0)
    return Section("data", "Data", Markup(table), nav="Data")
