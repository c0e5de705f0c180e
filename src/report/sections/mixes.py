"""The top of a mixes report: whose tracks, how many tastes, and one line per mix."""

from __future__ import annotations

from typing import Any

from src.report.html import Section, render


def mixes_section(summary: dict[str, Any]) -> Section:
    """`summary`: the `mixes.json` record of `scripts/mixes.py` (listener, tastes, mixes)."""
    tastes = {t["taste"]: t["tracks"] for t in summary["tastes"]}
    mixes = [{**m, "taste_tracks": tastes.get(m.get("taste"), "")} for m in summary["mixes"]]
    body = render(
        "mixes.html.j2",
        history=summary["history_tracks"],
        source=summary["listener"]["source"],
        given=summary["listener"]["tracks_given"],
        unmatched=summary["listener"]["unmatched"],
        tastes=summary["tastes"],
        space=summary["embedding"],
        recommender=summary["recommender"],
        mixes=mixes,
    )
    return Section("mixes", "Your mixes", body, nav="Mixes")
