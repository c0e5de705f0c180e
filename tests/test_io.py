"""Atomic writes: a failure leaves the previous file intact and no temp files behind."""

from __future__ import annotations

import json

import pytest

from src.utils.io import atomic_path, write_json


def test_failed_write_keeps_previous(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_get_normal_permissions(tmp_path):
    path = write_json(tmp_path / "m.json", {})
    assert path.stat().st_mode & 0o044  # readable by group/others like any plainly created file (umask 022)
