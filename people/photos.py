"""Profile photos: checked by decoding, stripped, resized, stored through Django's storage API.

An upload is accepted only if Pillow decodes it as a JPEG, PNG or WebP of at most
5 MB and at most 40 megapixels (a small file can declare a huge canvas). It is
re-encoded from its pixels alone, so EXIF (camera, GPS), ICC and text chunks are
not carried over; the EXIF orientation is applied first so the photo stands upright.
Two square WebP files are kept, 256 px and 64 px; the names are random, so a
replaced photo is never served from a stale cache, and the previous files are
deleted once the new ones are committed.
"""

from __future__ import annotations

import io
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from perksu.errors import DomainError
from tenants.models import User

from .models import Profile

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG", "PNG", "WEBP"}
SIZES = {"large": 256, "small": 64}
CONTENT_TYPE = "image/webp"


def _refuse(message: str) -> DomainError:
    return DomainError(message, code="invalid_photo", field="photo")


def photo_decode(data: bytes) -> Image.Image:
    """The decoded image, or a refusal: not an image, another format, too big."""
    if len(data) > MAX_BYTES:
        raise _refuse(f"A photo is at most 5 MB; this file is {len(data) / 1024 / 1024:.1f} MB.")
    if not data:
        raise _refuse("The file is empty.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in FORMATS:
                raise _refuse(f"A photo is a JPEG, PNG or WebP image; this file is {fmt or 'not an image'}.")
            if width * height > MAX_PIXELS:
                raise _refuse("This image has too many pixels (at most 40 megapixels).")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse("This file is not a JPEG, PNG or WebP image that can be read.") from exc
    return image


def _square(image: Image.Image, size: int) -> bytes:
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    image = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh image carries no metadata; nothing of the original's info dict is passed on.
    image.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def photo_set(*, user: User, data: bytes) -> Profile:
    """Replace the member's photo with `data` (checked, stripped, resized), or refuse and store nothing."""
    image = photo_decode(data)
    stem = f"avatars/{user.tenant_id}/{user.pk}-{secrets.token_hex(8)}"
    files = {name: _square(image, size) for name, size in SIZES.items()}
    saved: list[str] = []
    try:
        for name, content in files.items():
            saved.append(default_storage.save(f"{stem}-{SIZES[name]}.webp", ContentFile(content)))
        with transaction.atomic():
            profile = Profile.objects.select_for_update().get(tenant_id=user.tenant_id, user=user)
            old = [profile.avatar.name, profile.avatar_small.name]
            profile.avatar.name, profile.avatar_small.name = saved
            profile.updated_at = timezone.now()
            _save_photo(profile)
            transaction.on_commit(lambda: _delete(old))
    except BaseException:
        _delete(saved)
        raise
    return profile


def _save_photo(profile: Profile) -> None:
    """Write the profile's photo fields, by tenant and id (the row is locked by the caller)."""
    Profile.objects.filter(tenant_id=profile.tenant_id, pk=profile.pk).update(
        avatar=profile.avatar.name, avatar_small=profile.avatar_small.name, updated_at=profile.updated_at
    )


def photo_remove(*, user: User) -> Profile:
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(tenant_id=user.tenant_id, user=user)
        old = [profile.avatar.name, profile.avatar_small.name]
        profile.avatar.name = profile.avatar_small.name = ""
        profile.updated_at = timezone.now()
        _save_photo(profile)
        transaction.on_commit(lambda: _delete(old))
    return profile


def _delete(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
