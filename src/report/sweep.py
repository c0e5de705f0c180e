"""Sweep outputs: the comparison plot and a combined HTML report across methods."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, select_autoescape  # noqa: E402

from src.report.html import data_uri  # noqa: E402
from src.report.plots import _save  # noqa: E402
from src.report.tables import RunInfo, best_methods  # noqa: E402
from src.utils.io import write_text  # noqa: E402


def plot_comparison(table: pd.DataFrame, path: Path) -> Path:
    """One panel per metric: mean with ±std error bars per method."""
    metrics = list(best_methods(table))
    cols = min(4, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), squeeze=False)
    methods = list(table.index)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        mean = table[(metric, "mean")].astype(float)
        std = table[(metric, "std")].astype(float).fillna(0.0)
        ax.errorbar(range(len(methods)), mean, yerr=std, fmt="o", capsize=4, color="#2a9d8f")
        ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right", fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle("Methods compared (mean ± std over seeds)")
    fig.tight_layout()
    return _save(fig, path)


_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sweep report</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1300px;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f4f4f4}.grid{display:grid;grid-template-columns:repeat({{ n }},1fr);gap:1rem}
img{max-width:100%;border:1px solid #eee}h3{margin:.3rem 0}</style></head><body>
<h1>Sweep report</h1><p>{{ n_runs }} runs · {{ methods|join(", ") }}</p>
<h2>Comparison (mean ± std over seeds; best in bold)</h2>{{ table|safe }}
<img src="{{ plot }}" alt="comparison plot">
{% for title, key in sections %}<h2>{{ title }}</h2><div class="grid">
{% for m in per_method %}<div><h3>{{ m.method }}</h3>{% if m.figures[key] %}<img src="{{ m.figures[key] }}" alt="{{ key }} {{ m.method }}">{% else %}<p>(no figure)</p>{% endif %}</div>{% endfor %}
</div>{% endfor %}
<h2>Example playlists for the same seed track</h2><div class="grid">
{% for m in per_method %}<div><h3>{{ m.method }}</h3><p>{{ m.seed_title }}</p>{{ m.seed_table|safe }}</div>{% endfor %}
</div></body></html>"""


def _seed_playlist(run_dir: Path, seed_id: str | None) -> tuple[str, str]:
    path = run_dir / "playlists" / "playlists.csv"
    if not path.exists():
        return "(no playlists)", ""
    table = pd.read_csv(path)
    seeded = table[table["kind"] == "seeded"]
    if seed_id is not None:
        seeded = seeded[seeded["playlist_id"] == f"seed-{seed_id}"]
    if seeded.empty:
        return "(no seeded playlist)", ""
    first = seeded["playlist_id"].iloc[0]
    rows = seeded[seeded["playlist_id"] == first]
    cols = [c for c in ("position", "name", "artist", "tempo", "camelot") if c in rows]
    return str(rows["playlist_name"].iloc[0]), rows[cols].head(15).to_html(index=False, border=0)


def _common_seed(runs: list[RunInfo]) -> str | None:
    """A seed track id that every run made a 'more like this' playlist for."""
    sets = []
    for run in runs:
        path = run.path / "playlists" / "playlists.json"
        if not path.exists():
            continue
        ids = {p["playlist_id"][5:] for p in json.loads(path.read_text()) if p["kind"] == "seeded"}
        sets.append(ids)
    common = set.intersection(*sets) if sets else set()
    return sorted(common)[0] if common else None


def write_sweep_report(
    runs: list[RunInfo], table: pd.DataFrame, markdown_html: str, plot: Path, path: Path
) -> Path:
    """Comparison table, per-method elbow/heatmaps side by side, same-seed example playlists."""
    first: dict[str, RunInfo] = {}
    for run in sorted(runs, key=lambda r: (r.seed if r.seed is not None else 0, str(r.path))):
        first.setdefault(run.method, run)
    seed_id = _common_seed(list(first.values()))
    per_method = []
    for method in table.index:
        run = first[method]
        figs = {}
        for key in ("elbow", "centroid_heatmap", "map"):
            fig = run.path / "figures" / f"{key}.png"
            figs[key] = data_uri(fig) if fig.exists() else None
        title, seed_table = _seed_playlist(run.path, seed_id)
        per_method.append({"method": method, "figures": figs, "seed_title": title, "seed_table": seed_table})
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(_TEMPLATE).render(
        n=max(1, len(per_method)),
        n_runs=len(runs),
        methods=list(table.index),
        table=markdown_html,
        plot=data_uri(plot),
        per_method=per_method,
        sections=[("Elbow curves", "elbow"), ("Cluster profiles", "centroid_heatmap"), ("2-D maps", "map")],
    )
    return write_text(path, html)
