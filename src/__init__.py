"""Playlist Lab: music catalogue → features → embeddings → clusters → playlists."""
