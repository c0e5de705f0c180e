"""A self-contained `report.html`: metrics, figures (embedded as data URIs), profiles and playlists."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

from src.evaluation.clustering import in_sample_metric
from src.utils.io import write_text

IN_SAMPLE_NOTE = (
    "This embedding learned from playlist membership, and the genre labels and co-playlist pairs come from the "
    "same playlists: metrics marked (in-sample) partly measure what it fitted. Held out: heldout_lift, the _cold "
    "label metrics (tracks in no training playlist) and the recommendation metrics."
)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,sans-serif;margin:2rem auto;max-width:1150px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left} th{background:#f4f4f4}
figure{display:inline-block;margin:.5rem;vertical-align:top} img{max-width:540px;border:1px solid #eee}
figcaption{font-size:.8rem;color:#555} details{margin:.3rem 0} summary{cursor:pointer;font-weight:600}
.note{background:#f8f8f2;border-left:4px solid #2a9d8f;padding:.4rem .8rem;margin:.6rem 0}
</style></head><body>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
{% for line in notes %}<div class="note">{{ line }}</div>{% endfor %}
<h2>Metrics</h2>
<table><tr><th>metric</th><th>value</th></tr>
{% for k, v in metrics %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>
{% if comparison %}<h2>Embeddings compared</h2>{{ comparison | safe }}{% endif %}
<h2>Figures</h2>
{% for fig in figures %}<figure><img src="{{ fig.src }}" alt="{{ fig.caption }}"><figcaption>{{ fig.caption }}</figcaption></figure>{% endfor %}
<h2>Clusters</h2>
{% for line in summary %}<p>{{ line }}</p>{% endfor %}
{{ profiles | safe }}
<h2>Playlists</h2>
{% for p in playlists %}<details{% if loop.index <= 3 %} open{% endif %}><summary>{{ p.name }} — {{ p.n }} tracks, {{ p.minutes }} min ({{ p.kind }})</summary>
<p>{{ p.description }} · tempo step {{ p.tempo_before }} → {{ p.tempo_after }} BPM, key step {{ p.key_before }} → {{ p.key_after }} (Camelot)</p>
{{ p.table | safe }}</details>{% endfor %}
<h2>Data</h2>{{ data_report | safe }}
</body></html>
"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_report(
    path: Path,
    title: str,
    subtitle: str,
    metrics: dict[str, float],
    figures: dict[str, Path],
    profiles: pd.DataFrame,
    summary: list[str],
    playlists: list,
    playlist_table: pd.DataFrame,
    data_report: dict,
    notes: list[str] | None = None,
    comparison: pd.DataFrame | None = None,
    max_rows: int = 40,
    in_sample: bool = False,
) -> Path:
    """The run report. `in_sample`: the embedding learned from playlist membership, so its label and co-playlist
    metrics are marked "(in-sample)" and a note says which metrics are held out."""
    env = Environment(autoescape=select_autoescape(default=True))
    cards = []
    for p in playlists:
        rows = playlist_table[playlist_table["playlist_id"] == p.playlist_id]
        cols = ["position", "name", "artist", "tempo", "energy", "camelot", "duration_s"]
        cards.append(
            {
                "name": p.name,
                "n": len(p.track_ids),
                "minutes": p.minutes,
                "kind": p.kind,
                "description": p.description,
                "tempo_before": f"{p.smoothness_before.get('tempo_bpm', 0):.1f}",
                "tempo_after": f"{p.smoothness_after.get('tempo_bpm', 0):.1f}",
                "key_before": f"{p.smoothness_before.get('camelot', 0):.2f}",
                "key_after": f"{p.smoothness_after.get('camelot', 0):.2f}",
                "table": rows[cols].head(max_rows).to_html(index=False, border=0),
            }
        )
    flat_report = {k: v for k, v in data_report.items() if not isinstance(v, dict | list)}
    for key in ("dropped", "imputed", "parsed"):
        for what, n in data_report.get(key, {}).items():
            flat_report[f"{key}: {what}"] = n
    notes = list(notes or [])
    if in_sample:
        notes.append(IN_SAMPLE_NOTE)
    html = env.from_string(_TEMPLATE).render(
        title=title,
        subtitle=subtitle,
        notes=notes,
        metrics=[
            (f"{k} (in-sample)" if in_sample and in_sample_metric(k) else k, _fmt(v))
            for k, v in sorted(metrics.items())
        ],
        figures=[{"src": _data_uri(p), "caption": caption} for caption, p in figures.items()],
        summary=summary,
        profiles=profiles.to_html(index=False, border=0, float_format=lambda v: f"{v:.2f}"),
        playlists=cards,
        comparison=comparison.to_html(border=0, float_format=lambda v: f"{v:.3f}")
        if comparison is not None
        else "",
        data_report=pd.DataFrame(list(flat_report.items()), columns=["item", "value"]).to_html(
            index=False, border=0
        ),
    )
    return write_text(path, html)
