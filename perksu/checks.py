"""System checks of the deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, deploy=True)
def shared_throttle_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The wrong-password lockout and the money POST limit count in the default cache
    (perksu/throttling.py). In a process-local cache each gunicorn worker counts on its
    own, so N workers allow N times the limit."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            f"The default cache is {backend.rsplit('.', 1)[-1]}: each worker keeps its own throttle counters, so "
            "the wrong-password lockout and the money POST limit are multiplied by the number of workers.",
            hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1.",
            id="perksu.W001",
        )
    ]
