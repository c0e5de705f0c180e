"""The run's PNG figures, embedded as data URIs so the file travels alone."""

from __future__ import annotations

from pathlib import Path

from src.report.html import Section, data_uri, render


def figures_section(figures: dict[str, Path]) -> Section:
    """`figures`: caption → PNG path, shown in the order given."""
    items = [{"src": data_uri(path), "caption": caption} for caption, path in figures.items()]
    return Section("figures", "Figures", render("figures.html.j2", figures=items), nav="Figures")
