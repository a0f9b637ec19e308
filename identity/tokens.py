"""Making and checking secrets: a token is shown once and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets

PREFIX_LENGTH = 8


def new_secret(scheme: str = "") -> str:
    """160 random bits in hex (40 characters), after an optional scheme prefix such as `scim_`."""
    return f"{scheme}{secrets.token_hex(20)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]
