"""Personalised mixes: a listener's tastes, each filled with tracks they do not have yet.

    python scripts/mixes.py run_dir=RUN_DIR listener.user=37i9dQZF1DXcZDD7cfEKhW
    python scripts/mixes.py run_dir=RUN_DIR listener.tracks=[4Sdw0xy5rvIE0cxRd2Gwxr,...] mix.size=20
    python scripts/mixes.py run_dir=RUN_DIR listener.library=outputs/my_library mix.minutes=60

Writes `mixes/` (json, csv, m3u8), `mixes.json`, figures and `report.html` into the Hydra run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from src.data.errors import DataError  # noqa: E402
from src.tasks.entry import clean_errors, run_dir  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="mixes")
@clean_errors
def main(cfg: DictConfig) -> None:
    from src.tasks.mixes import run_mixes
    from src.tasks.staging import staged

    if OmegaConf.is_missing(cfg, "run_dir"):
        raise DataError("missing argument run_dir=RUN_DIR (a scripts/pipeline.py run directory)")
    out = run_dir()
    with staged(out) as stage:  # a failed run leaves no partial mixes
        summary = run_mixes(cfg, Path(cfg.run_dir), stage)
    for mix in summary["mixes"]:
        print(
            f"{mix['name']}: {mix['tracks']} tracks, {mix['minutes']} min, {mix['new_releases']} new releases"
        )
    print(f"mixes: {(out / 'mixes').resolve()}  report: {(out / 'report.html').resolve()}")


if __name__ == "__main__":
    main()
