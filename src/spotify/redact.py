"""Keep tokens and secrets out of every log line (spotipy logs full request headers at DEBUG level).

Two kinds of redaction: token-shaped values after a known key or auth scheme (`Bearer …`, `refresh_token=…`),
and the literal client secret. A literal is replaced only where it stands as a whole value (not inside a longer
word), and only when it is at least MIN_SECRET_CHARS long: a one-letter "secret" would otherwise turn every log
line into asterisks ("Spotify" → "Spotif***") while protecting nothing. Such a short secret is reported as
suspicious (never printed); a real Spotify client secret is 32 hex characters.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

MIN_SECRET_CHARS = 8

_TOKEN_CHARS = r"A-Za-z0-9._~+/=-"
_SECRET_PATTERNS = [
    re.compile(rf"(Bearer|Basic)\s+[{_TOKEN_CHARS}]+"),
    re.compile(
        r"(['\"]?(?:access_token|refresh_token|client_secret|code_verifier|code)['\"]?\s*[:=]\s*['\"]?)"
        rf"[{_TOKEN_CHARS}]+"
    ),
]


_WORD_CHARS = r"A-Za-z0-9_-"


def whole_value(secret: str) -> re.Pattern[str]:
    """The secret where it is not part of a longer word (letters, digits, `_`, `-`)."""
    return re.compile(rf"(?<![{_WORD_CHARS}]){re.escape(secret)}(?![{_WORD_CHARS}])")


class RedactSecrets(logging.Filter):
    """Blank out tokens and (long enough) literal secrets in any log record."""

    def __init__(self, literals: list[str] | None = None) -> None:
        super().__init__()
        kept = [s for s in (literals or []) if s and len(s) >= MIN_SECRET_CHARS]
        self.literals = [whole_value(s) for s in sorted(kept, key=len, reverse=True)]

    def redact(self, text: str) -> str:
        for secret in self.literals:
            text = secret.sub("***", text)
        text = _SECRET_PATTERNS[0].sub(r"\1 ***", text)
        return _SECRET_PATTERNS[1].sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_redaction(secrets: list[str | None]) -> RedactSecrets:
    """Attach the filter to every handler of the root logger (Hydra's console and file handlers).

    A secret shorter than MIN_SECRET_CHARS is not redacted literally and draws a warning (without its value).
    """
    for secret in secrets:
        if secret and len(secret) < MIN_SECRET_CHARS:
            log.warning(
                "SPOTIPY_CLIENT_SECRET is only %d characters long; a Spotify client secret has 32. It looks "
                "wrong (copy it again from the app's page in the developer dashboard)",
                len(secret),
            )
    redactor = RedactSecrets([s for s in secrets if s])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
