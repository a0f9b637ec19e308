"""Settings for running Perksu on a developer's machine (the README's first command)."""

from .base import *  # noqa: F403
from .base import env

# A development-only key so the first command works with nothing configured;
# production.py refuses to start without a real one.
SECRET_KEY = env.str("SECRET_KEY", default="perksu-local-development-key-not-for-production-use-000")

# Serve static files straight from the finders; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True

# A developer's webhook receiver usually runs on this machine.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=True)
