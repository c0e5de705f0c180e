"""Clusters as cards: cover, name, archetype, size, years, top artists, strongest traits; then all z-scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.report.covers import cover_svg, feature_profile
from src.report.html import Section, render


def _traits(row: pd.Series, n: int = 4) -> list[str]:
    """The features furthest from the catalogue mean, as `energy +1.2σ`."""
    z = {c[2:]: float(row[c]) for c in row.index if c.startswith("z_")}
    strongest = sorted(z, key=lambda f: -abs(z[f]))[:n]
    return [f"{f} {z[f]:+.1f}σ" for f in strongest]


def clusters_section(
    profiles: pd.DataFrame, summary: list[str], tracks: pd.DataFrame, labels: np.ndarray
) -> Section:
    """`profiles` from the interpretation (one row per cluster), `labels` aligned with `tracks` rows."""
    cards = []
    for _, row in profiles.sort_values("size", ascending=False).iterrows():
        c = int(row["cluster"])
        members = tracks.loc[labels == c]
        years = (
            f"{int(row['year_min'])}–{int(row['year_max'])}, median {int(row['year_median'])}"
            if "year_median" in row and pd.notna(row.get("year_median"))
            else ""
        )
        cards.append(
            {
                "cluster": c,
                "name": row["name"],
                "archetype": row.get("archetype", ""),
                "archetype_score": row.get("archetype_score", float("nan")),
                "size": int(row["size"]),
                "share": f"{100 * float(row['share']):.1f}",
                "years": years,
                "artists": row.get("top_artists", ""),
                "traits": _traits(row),
                "cover": cover_svg(feature_profile(members), str(row["name"]), f"cluster-{c}", size=88),
            }
        )
    zcols = ["cluster", "name", "size"] + [c for c in profiles.columns if c.startswith("z_")]
    ztable = profiles[zcols].rename(columns=lambda c: c[2:] if c.startswith("z_") else c)
    body = render(
        "clusters.html.j2",
        cards=cards,
        summary=summary,
        ztable=ztable.to_html(index=False, border=0, float_format=lambda v: f"{v:+.2f}"),
    )
    return Section("clusters", f"Clusters ({len(cards)})", body, nav="Clusters")
