"""The user sign-in (PKCE) without a person at the keyboard: fail with a clear message instead of waiting.

spotipy signs in interactively whenever no usable token is cached (none, wrong scopes, or unrefreshable): it
opens a browser and waits on a local callback server (forever, in a scheduled job), or prints a URL and calls
`input()` (EOFError in CI, where stdin is empty). A scheduled job has to reuse a token saved by one interactive
sign-in, so when that is missing we stop with a message that says how to make one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from spotipy.oauth2 import SpotifyPKCE

from src.data.errors import DataError

SIGN_IN_COMMAND = "python scripts/spotify_signin.py"


class SignInNeeded(DataError):
    """No usable saved sign-in and nobody to sign in (stdin is not a terminal or is at end of file)."""


def stdin_is_terminal() -> bool:
    """True when a person can answer a prompt (stdin is an open TTY)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def sign_in_needed(token_cache: str | Path) -> SignInNeeded:
    return SignInNeeded(
        f"no usable saved Spotify sign-in in {token_cache} and no terminal to sign in from (stdin is not "
        f"interactive, e.g. a scheduled job or CI). Sign in once from a terminal with `{SIGN_IN_COMMAND}` "
        "(same spotify.token_cache / $SPOTIFY_TOKEN_CACHE as this job); without a browser on that machine add "
        "spotify.open_browser=false, which prints a URL to open anywhere and asks for the address it "
        "redirects to. Later runs reuse and refresh the saved token"
    )


class UnattendedSafePKCE(SpotifyPKCE):
    """SpotifyPKCE that raises SignInNeeded where spotipy would wait for a person who is not there.

    With a piped stdin and `open_browser=False` the redirect URL may still be read from the pipe (scripts do
    that); end of file there means nobody answered.
    """

    def _token_file(self) -> str:
        return str(getattr(self.cache_handler, "path", "the token cache"))

    def _get_auth_response(self, open_browser: bool | None = None) -> Any:
        browser = self.open_browser if open_browser is None else open_browser
        if browser and not stdin_is_terminal():  # a local callback server would wait forever
            raise sign_in_needed(self._token_file())
        try:
            return super()._get_auth_response(open_browser)
        except EOFError:
            print(file=sys.stdout)  # end spotipy's unanswered prompt line
            raise sign_in_needed(self._token_file()) from None
