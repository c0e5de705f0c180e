"""Parsing of key, mode and release-year variants."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.data.clean import parse_key, parse_mode, parse_release_year


@pytest.mark.parametrize(
    ("value", "expected"),
    [("C", 0), ("C#", 1), ("Db", 1), ("B", 11), ("Cb", 11), ("F♯", 6), ("7", 7), (3, 3), ("11.0", 11)],
)
def test_parse_key(value, expected):
    assert parse_key(value) == expected


@pytest.mark.parametrize("value", ["H", "12", "-1", "", None, float("nan"), "C#x"])
def test_parse_key_unusable(value):
    assert math.isnan(parse_key(value))


@given(st.integers(0, 11))
def test_parse_key_roundtrip_numbers(k):
    assert parse_key(str(k)) == k


@pytest.mark.parametrize(("value", "expected"), [("Major", 1), ("minor", 0), ("1", 1), (0, 0), ("1.0", 1)])
def test_parse_mode(value, expected):
    assert parse_mode(value) == expected


def test_parse_mode_unusable():
    assert math.isnan(parse_mode("sometimes"))


def test_release_year_variants():
    years = parse_release_year(pd.Series(["2019-06-14", "1998-05", "1975", None, "n/a", "0000"]))
    assert years.tolist()[:3] == [2019, 1998, 1975]
    assert years.iloc[3:].isna().all()
