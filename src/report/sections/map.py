"""An interactive 2-D map of the clustered space: hover a point to see artist – title and its cluster.

plotly writes its JavaScript inline (`include_plotlyjs=True`), so the report stays one offline file; the map
shows a seeded sample (at most `max_points`) so the file stays a few MB. It uses the same PCA layout as the
static `figures/map.png` (`plots.map_coords`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.colors import qualitative

from src.report.html import Section, render
from src.report.plots import map_coords

# 24 distinct colours, fixed so the same run always looks the same.
PALETTE: tuple[str, ...] = tuple(qualitative.Dark24)

# Plotly's mode bar links out to plotly.com and offers cloud export; the report keeps only the local tools.
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}


def _hover_text(tracks: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    artist = tracks["artist"].astype(str).to_numpy()[idx] if "artist" in tracks else np.full(len(idx), "")
    title = tracks["name"].astype(str).to_numpy()[idx] if "name" in tracks else np.full(len(idx), "")
    return np.char.add(np.char.add(artist.astype(str), " – "), title.astype(str))


def map_figure(
    X: np.ndarray,
    labels: np.ndarray,
    tracks: pd.DataFrame,
    names: dict[int, str],
    seed: int = 0,
    max_points: int = 5000,
) -> go.Figure:
    """One scatter trace per cluster (so the legend toggles clusters) over a seeded sample of tracks."""
    idx, coords = map_coords(X, seed, max_points)
    text = _hover_text(tracks, idx)
    fig = go.Figure()
    for c in np.unique(labels):
        m = labels[idx] == c
        if not m.any():
            continue
        name = f"{int(c)}: {names.get(int(c), '')}"
        fig.add_trace(
            go.Scatter(
                x=coords[m, 0],
                y=coords[m, 1] if coords.shape[1] > 1 else np.zeros(int(m.sum())),
                mode="markers",
                name=name[:40],
                text=text[m],
                hovertemplate="%{text}<br>cluster " + name.replace("%", "%%") + "<extra></extra>",
                marker={"size": 5, "opacity": 0.7, "color": PALETTE[int(c) % len(PALETTE)]},
            )
        )
    fig.update_layout(
        height=620,
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        xaxis_title="PC 1",
        yaxis_title="PC 2",
        legend={"font": {"size": 10}, "itemsizing": "constant"},
        template="plotly_white",
        title={"text": f"{len(idx):,} of {len(X):,} tracks (seeded sample)", "font": {"size": 13}},
    )
    return fig


def map_section(
    X: np.ndarray,
    labels: np.ndarray,
    tracks: pd.DataFrame,
    names: dict[int, str],
    seed: int = 0,
    max_points: int = 5000,
) -> Section:
    """The map as a section; plotly's bundle is inlined once, here."""
    fig = map_figure(X, labels, tracks, names, seed, max_points)
    plot = fig.to_html(full_html=False, include_plotlyjs=True, config=PLOT_CONFIG, div_id="cluster-map")
    body = render("map.html.j2", plot=Markup(plot))
    return Section("map", "Map of the clustered space", body, nav="Map")
