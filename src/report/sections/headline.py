"""The top of the page: what was run and the few numbers that say whether it worked."""

from __future__ import annotations

import math
import re

from src.report.format import fmt_value
from src.report.html import Section, render
from src.report.metric_registry import describe
from src.report.run_summary import RunSummary

# Headline candidates in order of preference: held-out evidence first, then label-free, then label agreement.
HEADLINE_PATTERNS: tuple[str, ...] = (
    r"heldout_lift",
    r"coplaylist_lift",
    r"stability_ari",
    r"silhouette",
    r"nmi_genre",
    r"nmi_(?!.*_cold)(?!.*@)[a-z0-9_]+",  # a custom label column when there is no genre
    r"recall@100",
    r"davies_bouldin",
)

IN_SAMPLE_NOTE = (
    "This embedding learned from playlist membership, and the genre labels and co-playlist pairs come from the "
    "same playlists: numbers marked in-sample partly measure what it fitted. Held out: the held-out playlist "
    "lift, the cold-track label metrics and the recommendation metrics."
)


def pick_headlines(metrics: dict[str, float], n: int = 5) -> list[str]:
    """Up to `n` keys of `metrics` (finite values only), the first match of each pattern, in pattern order."""
    chosen: list[str] = []
    for pattern in HEADLINE_PATTERNS:
        regex = re.compile(pattern)
        for key in sorted(metrics):
            value = metrics[key]
            if key in chosen or not regex.fullmatch(key):
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                chosen.append(key)
                break
        if len(chosen) == n:
            break
    return chosen


def headline_section(
    title: str, run: RunSummary, metrics: dict[str, float], notes: list[str] | None = None
) -> Section:
    """Title, the run in one block of facts, and 3–5 headline numbers with a line each."""
    cards = []
    for key in pick_headlines(metrics):
        info = describe(key)
        cards.append(
            {
                "key": key,
                "value": fmt_value(metrics[key]) + info.unit,
                "label": info.label,
                "meaning": info.meaning,
                "badge": info.badge(run.learned_from_playlists),
            }
        )
    notes = list(notes or [])
    if run.learned_from_playlists:
        notes.append(IN_SAMPLE_NOTE)
    body = render("headline.html.j2", title=title, run=run, cards=cards, notes=notes)
    return Section("headline", "", body, nav="Overview")
