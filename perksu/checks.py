"""System checks of the deployment (`manage.py check --deploy`)."""

import runpy
from pathlib import Path

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


GUNICORN_CONF = Path(__file__).resolve().parent / "gunicorn.conf.py"
ALL_INTERFACES = {"0.0.0.0", "::", ""}  # noqa: S104 - the addresses we warn about, not a bind


def gunicorn_binds() -> list[str]:
    """The addresses gunicorn binds with perksu/gunicorn.conf.py in this environment."""
    bind = runpy.run_path(str(GUNICORN_CONF)).get("bind") or []
    return [bind] if isinstance(bind, str) else list(bind)


def binds_all_interfaces(address: str) -> bool:
    """Whether a gunicorn bind address (`HOST:PORT`, `[V6]:PORT`, `unix:PATH`, `fd://N`) listens on every interface."""
    if address.startswith(("unix:", "fd://")):
        return False
    if address.startswith("["):
        host = address[1 : address.find("]")]
    elif address.count(":") == 1:
        host = address.split(":")[0]
    else:
        host = address  # a bare host, or a bare IPv6 address
    return host in ALL_INTERFACES


@checks.register(checks.Tags.security, deploy=True)
def proxy_header_with_a_public_bind(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """`SECURE_PROXY_SSL_HEADER` makes Django take `X-Forwarded-Proto: https` as proof of HTTPS. That is only
    true when every request comes through the proxy, which sets the header itself; a gunicorn reachable on
    every interface lets a client send the header and be taken for HTTPS (docs/SECURITY.md)."""
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return []
    public = [address for address in gunicorn_binds() if binds_all_interfaces(address)]
    if not public:
        return []
    return [
        checks.Warning(
            f"SECURE_PROXY_SSL_HEADER is trusted while gunicorn binds {', '.join(public)} (every interface): a "
            f"client reaching gunicorn directly can send {settings.SECURE_PROXY_SSL_HEADER[0]} and be taken for "
            "HTTPS.",
            hint="Bind gunicorn where only the proxy reaches it: GUNICORN_BIND=127.0.0.1:8000 (proxy on the same "
            "host), a private address, or a unix socket. See docs/SECURITY.md.",
            id="perksu.W002",
        )
    ]
