"""Playlists from clusters and seeds: selection, listening order, exports."""
