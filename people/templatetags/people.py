"""`{% avatar person %}`: a member's photo, or their initials in a coloured circle."""

from __future__ import annotations

import hashlib

from django import template

from people.selectors import photo_url

register = template.Library()

COLOURS = 8


def initials(name: str, email: str = "") -> str:
    words = [w for w in (name or "").replace("-", " ").split() if w[:1].isalpha()]
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    if words:
        return words[0][:2].upper()
    return (email or "?")[:1].upper()


def colour(key: object) -> int:
    """A stable colour (0–7) per member, so the same person always has the same circle."""
    return int(hashlib.blake2s(str(key).encode(), digest_size=2).hexdigest(), 16) % COLOURS


@register.inclusion_tag("includes/avatar.html")
def avatar(person, size: str = "small"):
    """`size`: "small" (32 px, lists), "medium" (48 px) or "large" (96 px, the profile)."""
    if person is None:
        return {"person": None}
    pixels = 256 if size == "large" else 64
    return {
        "person": person,
        "name": getattr(person, "full_name", "") or getattr(person, "email", ""),
        "initials": initials(getattr(person, "full_name", ""), getattr(person, "email", "")),
        "colour": colour(getattr(person, "pk", "")),
        "size": size,
        "src": photo_url(person, pixels),
    }
