"""Generated playlist covers: a small inline SVG drawn from a feature profile, so the page needs no assets.

The colours say mood at a glance (energy → warm vs cool hue, valence → bright vs dark) and the bars are the
profile itself (one bar per feature, height = its 0…1 mean), so two covers that look alike sound alike.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Mapping

import pandas as pd
from markupsafe import Markup, escape

# Features in 0…1 drawn as bars, in this order, with the letter printed under each bar.
BAR_FEATURES: tuple[tuple[str, str], ...] = (
    ("danceability", "D"),
    ("energy", "E"),
    ("valence", "V"),
    ("acousticness", "A"),
    ("instrumentalness", "I"),
    ("speechiness", "S"),
    ("liveness", "L"),
)


def feature_profile(tracks: pd.DataFrame) -> dict[str, float]:
    """Mean of each bar feature (0…1) and tempo over `tracks`: what a cover is drawn from."""
    features = [f for f, _ in BAR_FEATURES] + ["tempo"]
    return {f: float(tracks[f].mean()) for f in features if f in tracks and len(tracks)}


def _clip(x: float) -> float:
    return min(1.0, max(0.0, float(x)))


def _hex(h: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, _clip(lightness), _clip(saturation))
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def cover_colors(profile: Mapping[str, float]) -> tuple[str, str]:
    """Two gradient stops: hue from energy (blue → red), lightness from valence, a shift from acousticness."""
    energy = _clip(profile.get("energy", 0.5))
    valence = _clip(profile.get("valence", 0.5))
    acoustic = _clip(profile.get("acousticness", 0.3))
    # Catalogue means sit between ~0.3 and ~0.9 energy: stretch that range over blue (calm) … red (intense).
    hue = 0.66 * (1.0 - _clip((energy - 0.3) / 0.6))
    top = _hex(hue, 0.30 + 0.30 * valence, 0.55 + 0.3 * (1 - acoustic))
    bottom = _hex(hue + 0.10 + 0.15 * acoustic, 0.18 + 0.22 * valence, 0.45)
    return top, bottom


def cover_svg(profile: Mapping[str, float], title: str, uid: str, size: int = 112) -> Markup:
    """An inline `<svg>` cover; `title` is its accessible name, `uid` (unique in the page) names its gradient."""
    top, bottom = cover_colors(profile)
    gid = "g" + hashlib.sha1(uid.encode()).hexdigest()[:12]
    n = len(BAR_FEATURES)
    pad, gap = 10, 4
    width = (size - 2 * pad - gap * (n - 1)) / n
    base = size - 22
    bars = []
    for i, (feature, letter) in enumerate(BAR_FEATURES):
        h = max(2.0, _clip(profile.get(feature, 0.0)) * (base - 14))
        x = pad + i * (width + gap)
        bars.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{width:.1f}" height="{h:.1f}" rx="2" '
            f'fill="#fff" fill-opacity="0.85"><title>{feature} {profile.get(feature, 0.0):.2f}</title></rect>'
            f'<text x="{x + width / 2:.1f}" y="{size - 9}" font-size="9" text-anchor="middle" '
            f'fill="#fff" fill-opacity="0.8">{letter}</text>'
        )
    tempo = profile.get("tempo")
    tempo_text = (
        f'<text x="{size - 8}" y="16" font-size="10" text-anchor="end" fill="#fff">{tempo:.0f} BPM</text>'
        if tempo is not None
        else ""
    )
    return Markup(
        f'<svg class="cover" role="img" aria-label="{escape(title)}" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">'
        f'<defs><linearGradient id="{gid}" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        f'<rect width="{size}" height="{size}" rx="10" fill="url(#{gid})"/>{tempo_text}{"".join(bars)}</svg>'
    )
