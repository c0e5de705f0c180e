"""Song identity: versions of one recording share a key; remixes by someone else do not."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.songs import duplicate_song_rate, one_per_song, song_key, song_keys, title_key


def test_version_qualifiers_are_removed():
    assert title_key("Dynamite - Radio Edit") == title_key("Dynamite") == "dynamite"
    assert title_key("Leaving Home Ain't Easy - Remastered 2011") == "leaving home ain t easy"
    assert title_key("Machine Gun Funk - 2006 Remaster") == "machine gun funk"
    assert title_key("Down On This - Original Mix") == "down on this"
    assert title_key("Like It Or Not (feat. joan) (feat. joan)") == "like it or not"
    assert title_key("Sexy Music [Bonus Track] (Remastered 2013)") == "sexy music"
    assert title_key("Golden Years - Single Version [Remastered]") == "golden years"
    assert title_key("Hit 'Em Up - Single Version (Explicit)") == title_key("Hit 'Em Up")
    assert title_key("Crazy In Love (feat. Jay-Z)") == "crazy in love"
    assert title_key("Café Del Mar") == title_key("CAFE DEL MAR!")


def test_different_recordings_keep_their_own_key():
    assert title_key("Not Alone - REGGIO Remix") != title_key("Not Alone")
    assert title_key("Right Here - Human Nature Radio Mix") != title_key("Right Here")
    assert title_key("Rocket Man (I Think It's Going To Be A Long Long Time)") != title_key("Rocket Man")
    assert song_key("Gareth Emery", "Dynamite") != song_key("Other Artist", "Dynamite")


def test_artist_credits_reduce_to_the_first_artist():
    assert song_key("Drake, Rick Ross", "X") == song_key("Drake feat. Future", "X") == song_key("drake", "X")
    # a name containing "&" is one artist, not a list
    assert song_key("Dimitri Vegas & Like Mike", "Tomorrowland") != song_key("Dimitri Vegas", "Tomorrowland")


def test_rows_without_a_title_are_their_own_song():
    frame = pd.DataFrame({"track_id": ["a", "b"], "name": [None, ""], "artist": ["x", "x"]})
    assert song_keys(frame).tolist() == ["id:a", "id:b"]


def test_real_duplicates_from_the_bundled_catalogue(bundled_tracks):
    """Versions the demo used to put side by side are one song; the most popular version is kept."""
    keys = song_keys(bundled_tracks)
    assert keys.nunique() < 0.95 * len(bundled_tracks)  # the catalogue repeats songs under several ids
    for artist, title in [("Gareth Emery", "Dynamite"), ("DVBBS", "Tsunami"), ("2Pac", "California Love")]:
        rows = bundled_tracks[
            (bundled_tracks["artist"] == artist) & bundled_tracks["name"].str.startswith(title)
        ]
        versions = rows[keys[rows.index].duplicated(keep=False)]
        assert len(versions) >= 2, (artist, title)
        kept = one_per_song(versions)
        assert len(kept) == keys[versions.index].nunique()
        top = versions.sort_values("popularity", ascending=False).iloc[0]
        assert top["track_id"] in set(kept["track_id"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 100) | st.none()),
        min_size=0,
        max_size=30,
    )
)
def test_one_per_song_properties(rows):
    frame = pd.DataFrame(
        {
            "track_id": [f"t{i}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "artist": "x",
            "popularity": [r[1] for r in rows],
        }
    )
    kept = one_per_song(frame)
    keys = song_keys(kept)
    assert keys.is_unique
    assert set(keys) == set(song_keys(frame))
    # songs appear in the order of their best-ranked version
    first_seen = list(dict.fromkeys(frame["name"]))
    assert kept["name"].tolist() == first_seen
    # the kept version is the most popular one of its song
    pop = pd.to_numeric(frame["popularity"]).fillna(-1)
    for _, row in kept.iterrows():
        best = pop[frame["name"] == row["name"]].max()
        assert (row["popularity"] if pd.notna(row["popularity"]) else -1) == best
    slots = [frame["track_id"].tolist()]
    key_of = dict(zip(frame["track_id"], song_keys(frame), strict=True))
    assert duplicate_song_rate([kept["track_id"].tolist()], key_of) == 0.0
    expected = (len(frame) - len(kept)) / len(frame) if len(frame) else 0.0
    assert duplicate_song_rate(slots, key_of) == expected
