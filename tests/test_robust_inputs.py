"""Malformed catalogues never crash the pipeline: it succeeds with all its artifacts, or exits 2 with one line
naming the file and leaves the run directory as it was (issue 14).

The property test runs the entry point's body in-process (`clean_errors(run_pipeline)`, what
`scripts/pipeline.py` calls after Hydra has composed the config) so that many examples fit in seconds; the two
files from the issue also go through the real script as a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import synthetic_tracks
from helpers import ROOT, TINY, run_script
from src.data.schema import AUDIO_FEATURES
from src.tasks.entry import clean_errors
from src.tasks.pipeline import run_pipeline
from src.tasks.staging import STAGE_PREFIX

NUMERIC = [*AUDIO_FEATURES, "track_popularity"]
BAD_CELLS = ["inf", "-inf", "1e308", "-1e308", "NaN", "", "?", "abc", "1e-308", "0", "-1"]
COLUMN_CHANGES = [
    "none",
    "nan_column",  # NaN everywhere in one column
    "text_column",  # words in a numeric column
    "duplicate_column",  # the same name twice
    "duplicate_column_case",  # 'Energy' and 'energy'
    "duplicate_unused_column",
    "one_column",
    "drop_column",
]
EARLIER = {"from": "an earlier run"}


@st.composite
def adversarial_csv(draw) -> bytes:
    """A small catalogue (0-3 rows) in the bundled CSV shape, with bad cells, a broken column, `;` or a BOM."""
    n = draw(st.sampled_from([0, 1, 2, 3, 3, 3]))
    frame = synthetic_tracks(3, seed=draw(st.integers(0, 1000))).head(n).astype(object)
    for _ in range(draw(st.integers(0, 4)) if n else 0):
        row, column = draw(st.integers(0, n - 1)), draw(st.sampled_from(NUMERIC))
        frame.loc[frame.index[row], column] = draw(st.sampled_from(BAD_CELLS))
    # half the files keep every column, so bad cells are often survivable and the run must then succeed
    change = draw(st.sampled_from(COLUMN_CHANGES) | st.just("none"))
    column = draw(st.sampled_from(NUMERIC))
    if change == "nan_column":
        frame[column] = "NaN"
    elif change == "text_column":
        frame[column] = "loud"
    elif change == "duplicate_column":
        frame = pd.concat([frame, frame[[column]]], axis=1)
    elif change == "duplicate_column_case":
        frame = pd.concat([frame, frame[[column]].rename(columns=str.capitalize)], axis=1)
    elif change == "duplicate_unused_column":
        frame = pd.concat([frame, frame[["playlist_genre"]]], axis=1)
    elif change == "one_column":
        frame = frame[[column]]
    elif change == "drop_column":
        frame = frame.drop(columns=[column])
    text = frame.to_csv(index=False, sep=draw(st.sampled_from([",", ";"])))
    return ("\ufeff" * draw(st.booleans()) + text).encode("utf-8")


def _config(data_path: Path, run_dir: Path, k: str):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return compose(
            config_name="pipeline",
            overrides=[
                *TINY,
                "data=csv",
                f"data.path={data_path}",
                f"paths.output_dir={run_dir}",
                f"cluster.k={k}",
            ],
        )


def _assert_whole_run(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    clusters = pd.read_parquet(run_dir / "clusters.parquet")
    assert len(clusters) == metrics["n_tracks"] >= 2 and clusters["cluster"].nunique() == metrics["k"]
    assert (run_dir / "report.html").stat().st_size > 1000
    playlists = json.loads((run_dir / "playlists" / "playlists.json").read_text())
    assert len(playlists) == metrics["n_playlists"] and metrics["duplicate_song_rate"] == 0.0
    assert all(np.isfinite(v) or np.isnan(v) for v in metrics.values())
    assert (run_dir / "data_report.json").exists() and (run_dir / "embeddings" / "raw.faiss").exists()


def _assert_untouched(run_dir: Path) -> None:
    """Only what was there before the run (Hydra's own .hydra/ and log are not written in-process)."""
    assert sorted(p.name for p in run_dir.iterdir()) == ["metrics.json"]
    assert json.loads((run_dir / "metrics.json").read_text()) == EARLIER


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=adversarial_csv(), k=st.sampled_from(["auto", "auto", "3", "6"]))
def test_malformed_catalogues_run_or_exit_2_naming_the_file(tmp_path_factory, capsys, content, k):
    folder = tmp_path_factory.mktemp("case")
    path = folder / "catalogue.csv"
    path.write_bytes(content)
    run_dir = folder / "run"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text(json.dumps(EARLIER))
    capsys.readouterr()
    try:
        clean_errors(run_pipeline)(_config(path, run_dir, k), run_dir)
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    event(f"exit {code}" + (f": {err.split(': ', 2)[-1][:40]}" if code else ""))
    assert not list(run_dir.glob(f"{STAGE_PREFIX}*"))
    if code == 0:
        _assert_whole_run(run_dir)
    else:
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], err
        _assert_untouched(run_dir)


def _issue_catalogue(tmp_path: Path, case: str) -> Path:
    frame = synthetic_tracks(40).astype(object)
    if case == "one_row":
        frame = frame.head(1)
    else:  # inf and huge values in three columns
        frame.loc[3, "loudness"] = "inf"
        frame.loc[5, "tempo"] = "1e308"
        frame.loc[7, "duration_ms"] = "-inf"
        frame.loc[8, "loudness"] = "1e308"
    path = tmp_path / f"{case}.csv"
    frame.to_csv(path, index=False)
    return path


def test_one_row_catalogue_exits_2_with_a_clear_message(tmp_path):
    path = _issue_catalogue(tmp_path, "one_row")
    run_dir = tmp_path / "run"
    result = run_script("pipeline.py", *TINY, "data=csv", f"data.path={path}", f"hydra.run.dir={run_dir}")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip() == f"error: {path}: 1 usable track; clustering needs at least 2"
    assert sorted(p.name for p in run_dir.iterdir()) == [".hydra", "pipeline.log"]  # no partial run


def test_infinite_and_huge_values_are_dropped_from_use_and_reported(tmp_path):
    path = _issue_catalogue(tmp_path, "inf")
    run_dir = tmp_path / "run"
    result = run_script("pipeline.py", *TINY, "data=csv", f"data.path={path}", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    report = json.loads((run_dir / "data_report.json").read_text())
    assert report["unusable"] == {"loudness": 2, "tempo": 1, "duration_ms": 1}
    assert report["imputed"] == {"loudness": 2, "tempo": 1, "duration_ms": 1}
    assert "column 'loudness': 2 values" in result.stdout and "(rows 5, 10)" in result.stdout
    assert json.loads((run_dir / "metrics.json").read_text())["n_tracks"] == 40


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_tab_and_bom_files_are_read(tmp_path, sep):
    from src.data.sources import CsvSource

    path = tmp_path / "euro.csv"
    path.write_bytes(b"\xef\xbb\xbf" + synthetic_tracks(20).to_csv(index=False, sep=sep).encode())
    catalog = CsvSource(path=str(path)).load()
    assert len(catalog.tracks) == 20 and catalog.tracks["track_id"].iloc[0] == "t0000"


def test_repeated_columns_are_named(tmp_path):
    from src.data.errors import DataError
    from src.data.sources import CsvSource

    frame = synthetic_tracks(10)
    path = tmp_path / "twice.csv"
    pd.concat([frame, frame[["energy"]].rename(columns={"energy": "Energy"})], axis=1).to_csv(
        path, index=False
    )
    with pytest.raises(DataError, match=r"twice.csv: column 'energy' appears 2 times \(columns 11, 22\)"):
        CsvSource(path=str(path)).load()
    pd.concat([frame, frame[["playlist_genre"]]], axis=1).to_csv(path, index=False)
    catalog = CsvSource(path=str(path)).load()
    assert (
        "column 'playlist_genre' appears 2 times (columns 8, 22): the first is used" in catalog.report.notes
    )
