"""Every metric of the run, grouped, with the registry's label, meaning and in-sample / held-out tag."""

from __future__ import annotations

from src.report.format import fmt_value
from src.report.html import Section, render
from src.report.metric_registry import GROUPS, group_metrics


def metrics_section(metrics: dict[str, float], learned_from_playlists: bool) -> Section:
    """Groups in registry order; keys the registry does not know land in "Other", never dropped."""
    groups = []
    for group, infos in group_metrics(sorted(metrics)).items():
        title, sentence = GROUPS[group]
        rows = [
            {
                "key": i.key,
                "label": i.label,
                "value": fmt_value(metrics[i.key]) + i.unit,
                "meaning": i.meaning,
                "badge": i.badge(learned_from_playlists),
            }
            for i in infos
        ]
        groups.append({"id": f"metrics-{group}", "title": title, "sentence": sentence, "rows": rows})
    body = render("metrics.html.j2", groups=groups)
    return Section("metrics", "All metrics", body, nav="Metrics")
