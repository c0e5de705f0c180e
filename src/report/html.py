"""The run report as a page of sections: one self-contained `report.html`, no external loads.

The task layer decides which sections a run gets and in what order (a list of `Section`), so adding one (say,
personalised mixes) is one builder in `src/report/sections/` and one line in the list. Each builder renders its
own partial from `src/report/templates/`; this module only lays the sections out in the page template.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from src.utils.io import write_text

TEMPLATES = Path(__file__).with_name("templates")
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["basename"] = lambda path: Path(str(path)).name or str(path)


@dataclass(frozen=True)
class Section:
    """One block of the page: `id` is its anchor, `nav` its name in the top bar (None: not listed)."""

    id: str
    title: str
    body: Markup
    nav: str | None = None


def render(template: str, **context: object) -> Markup:
    """A partial from `templates/`, as markup a section can hold."""
    return Markup(ENV.get_template(template).render(**context))


def data_uri(path: Path) -> str:
    """A PNG as a `data:` URI, so figures travel inside the HTML file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_page(title: str, sections: list[Section]) -> str:
    return ENV.get_template("page.html.j2").render(title=title, sections=sections)


def write_report(path: Path, title: str, sections: list[Section]) -> Path:
    """Write the sections, in the order given, as one HTML file (atomically)."""
    return write_text(path, render_page(title, sections))
