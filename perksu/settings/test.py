"""Settings for the test suite (pytest.ini points here)."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("SECRET_KEY", default="perksu-test-key-not-for-production-use-00000000000000000")
# Fast hashing: the suite creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Photos written by the tests go to a throwaway directory.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="perksu-test-media-"))
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Serve static files straight from the finders; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True

# The tests' webhook receivers listen on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE = True
