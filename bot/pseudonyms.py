"""Keyed pseudonyms: stable, unlinkable identifiers derived from Telegram ids.

The database keys preferences by one pseudonym and the engine sees another, so neither store
holds a Telegram id and the two cannot be joined without the key.
"""

import hashlib
import hmac


def pseudonym(key: bytes, purpose: str, identifier: int | str) -> str:
    """Derive the pseudonym of `identifier` for `purpose` ("user", "engine", ...)."""
    message = f"{purpose}:{identifier}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
