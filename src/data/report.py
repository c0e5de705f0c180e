"""What the loader dropped, imputed or merged: counted, logged and saved with every run."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

log = logging.getLogger(__name__)


@dataclass
class DataReport:
    """Counts of everything the data layer changed on the way in."""

    source: str = ""
    rows_read: int = 0
    tracks: int = 0
    duplicate_rows_merged: int = 0
    interactions: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    parsed: dict[str, int] = field(default_factory=dict)
    unusable: dict[str, int] = field(
        default_factory=dict
    )  # values turned missing per column (text, inf, range)
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, n: int) -> None:
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(n)

    def impute(self, column: str, n: int) -> None:
        if n:
            self.imputed[column] = self.imputed.get(column, 0) + int(n)

    def unusable_values(self, column: str, n: int) -> None:
        if n:
            self.unusable[column] = self.unusable.get(column, 0) + int(n)

    def parse(self, what: str, n: int) -> None:
        if n:
            self.parsed[what] = self.parsed.get(what, 0) + int(n)

    def to_dict(self) -> dict:
        return asdict(self)

    def log(self) -> None:
        log.info(
            "data %s: %d rows read → %d tracks (%d duplicate rows merged), %d interactions",
            self.source,
            self.rows_read,
            self.tracks,
            self.duplicate_rows_merged,
            self.interactions,
        )
        for reason, n in self.dropped.items():
            log.warning("dropped %d rows: %s", n, reason)
        for column, n in self.imputed.items():
            log.warning("imputed %d missing/unusable values in column '%s' (median)", n, column)
        for what, n in self.parsed.items():
            log.info("parsed %d values: %s", n, what)
        for note in self.notes:
            log.info(note)
