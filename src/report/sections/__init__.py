"""One builder per report section; each returns a `Section` and the task layer lists them in page order."""

from src.report.sections.clusters import clusters_section
from src.report.sections.data import comparison_section, data_section
from src.report.sections.figures import figures_section
from src.report.sections.headline import headline_section
from src.report.sections.map import map_section
from src.report.sections.metrics import metrics_section
from src.report.sections.mixes import mixes_section
from src.report.sections.playlists import playlists_section

__all__ = [
    "clusters_section",
    "comparison_section",
    "data_section",
    "figures_section",
    "headline_section",
    "map_section",
    "metrics_section",
    "mixes_section",
    "playlists_section",
]
