"""Figures that explain a clustering: elbow/silhouette, heatmaps, a 2-D map, cluster sizes."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from src.cluster.choose_k import KChoice  # noqa: E402
from src.utils.io import atomic_path  # noqa: E402

# Fixed metadata so the same run gives byte-identical PNGs.
_PNG_META = {"Software": None}


def _save(fig: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png", metadata=_PNG_META)
    plt.close(fig)
    return path


def plot_elbow(choice: KChoice, path: Path, title: str = "") -> Path:
    """Inertia and silhouette against k, the chosen k marked and the reason in the subtitle."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(choice.ks, choice.inertias, "o-", color="#1f77b4", label="inertia")
    ax.set_xlabel("k (number of clusters)")
    ax.set_ylabel("inertia (sum of squared distances)", color="#1f77b4")
    ax2 = ax.twinx()
    ax2.plot(choice.ks, choice.silhouettes, "s--", color="#ff7f0e", label="silhouette")
    ax2.set_ylabel("silhouette", color="#ff7f0e")
    if choice.k in choice.ks:
        ax.axvline(choice.k, color="crimson", lw=1.5)
        ax.annotate(
            f"chosen k={choice.k} ({choice.method})",
            (choice.k, choice.inertias[choice.ks.index(choice.k)]),
            xytext=(10, 20),
            textcoords="offset points",
            color="crimson",
            arrowprops={"arrowstyle": "->", "color": "crimson"},
        )
    ax.set_title(title or "Elbow method: inertia and silhouette per k")
    fig.text(0.01, -0.04, choice.reason, fontsize=8, wrap=True)
    return _save(fig, path)


def _heatmap(matrix: pd.DataFrame, path: Path, title: str, cmap: str, center: bool, fmt: str) -> Path:
    h, w = matrix.shape
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * w + 3), max(3.5, 0.45 * h + 1.5)))
    values = matrix.to_numpy(dtype=float)
    limit = np.nanmax(np.abs(values)) if center else None
    im = ax.imshow(values, cmap=cmap, aspect="auto", vmin=-limit if center else None, vmax=limit)
    ax.set_xticks(range(w), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(h), [str(i) for i in matrix.index])
    if h * w <= 600:
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.03)
    ax.set_title(title)
    return _save(fig, path)


def plot_centroid_heatmap(profiles: pd.DataFrame, path: Path) -> Path:
    """Clusters × features, mean z-score: what makes each cluster different."""
    zcols = [c for c in profiles.columns if c.startswith("z_")]
    matrix = profiles.set_index(profiles["cluster"].astype(str) + ": " + profiles["name"])[zcols]
    matrix.columns = [c[2:] for c in zcols]
    return _heatmap(matrix, path, "Cluster profiles (mean z-score per feature)", "RdBu_r", True, ".1f")


def plot_distance_heatmap(distances: pd.DataFrame, path: Path) -> Path:
    return _heatmap(
        distances, path, "Cluster-to-cluster distance (z-score profiles)", "viridis", False, ".1f"
    )


def map_coords(X: np.ndarray, seed: int = 0, max_points: int = 8000) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of row indices (sorted) and their 2-D PCA coordinates: the one map layout."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(X), size=min(max_points, len(X)), replace=False))
    dims = min(2, X.shape[1], len(idx))  # PCA needs as many points as components (tiny catalogues)
    with warnings.catch_warnings():  # identical points: zero total variance, a harmless 0/0 in sklearn
        warnings.simplefilter("ignore", RuntimeWarning)
        coords = (
            PCA(n_components=dims, random_state=seed).fit_transform(X[idx])
            if dims == 2
            else np.c_[X[idx][:, :1], np.zeros(len(idx))]
        )
    return idx, coords


def plot_map(
    X: np.ndarray,
    labels: np.ndarray,
    path: Path,
    names: dict[int, str],
    seed: int = 0,
    max_points: int = 8000,
) -> Path:
    """2-D PCA map of the clustered space (seeded sample), coloured by cluster."""
    idx, coords = map_coords(X, seed, max_points)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    cmap = plt.get_cmap("tab20")
    for c in np.unique(labels):
        m = labels[idx] == c
        ax.scatter(
            coords[m, 0],
            coords[m, 1],
            s=4,
            alpha=0.6,
            color=cmap(int(c) % 20),
            label=f"{c}: {names.get(int(c), '')}"[:40],
        )
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("Tracks in the clustered space (PCA), coloured by cluster")
    ax.legend(fontsize=6, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def plot_sizes(clusters: pd.DataFrame, names: dict[int, str], path: Path) -> Path:
    """Tracks per cluster, stacked by sub-cluster."""
    counts = clusters.groupby(["cluster", "subcluster"]).size().unstack(fill_value=0).sort_index()
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(counts) + 1.5))
    left = np.zeros(len(counts))
    cmap = plt.get_cmap("Pastel1")
    for j, s in enumerate(counts.columns):
        ax.barh(range(len(counts)), counts[s], left=left, color=cmap(j % 9), edgecolor="grey", lw=0.3)
        left += counts[s].to_numpy()
    ax.set_yticks(range(len(counts)), [f"{c}: {names.get(int(c), '')}"[:45] for c in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel("tracks (segments = sub-clusters)")
    ax.set_title("Cluster sizes")
    return _save(fig, path)


def plot_smoothness(before: dict[str, float], after: dict[str, float], path: Path) -> Path:
    """Mean step between consecutive tracks before vs after ordering."""
    keys = ["tempo_bpm", "camelot", "energy"]
    fig, axes = plt.subplots(1, 3, figsize=(8, 3))
    for ax, key in zip(axes, keys, strict=True):
        ax.bar(["before", "after"], [before.get(key, 0), after.get(key, 0)], color=["#bbb", "#2a9d8f"])
        ax.set_title(
            {"tempo_bpm": "tempo step (BPM)", "camelot": "key step (Camelot)", "energy": "energy step"}[key]
        )
    fig.suptitle("Playlist transitions: catalogue order vs ordered for listening")
    fig.tight_layout()
    return _save(fig, path)
