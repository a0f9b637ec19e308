"""gunicorn settings: `gunicorn -c perksu/gunicorn.conf.py perksu.wsgi`.

Workers default to 2 × cores: the bench (docs/PERFORMANCE.md) tries 2, 3 and 4
sync workers on a 2-core machine; before the one-statement award 4 won the
idle runs (185 vs 161 and 159/s), and since then 2 and 4 each won half of the
runs, within 8 % of each other (e.g. 497 vs 478/s): a request spends part of
its time waiting on PostgreSQL (the commit's WAL flush, the pool row), so more
workers than cores keep both busy.
Every value can be overridden from the environment.
"""

import multiprocessing
import os
from pathlib import Path

import environ

# The same .env as the settings, so `manage.py check --deploy` (perksu.W002) sees the bind gunicorn uses.
environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env", overwrite=False)

# Where only the reverse proxy reaches it (docs/SECURITY.md): production trusts the proxy's
# X-Forwarded-Proto, and `check --deploy` warns when this is every interface.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:" + os.environ.get("PORT", "8000"))
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Django opens one PostgreSQL connection per worker (per thread) and keeps it
# (CONN_MAX_AGE); the app needs nothing loaded before the fork.
preload_app = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def post_worker_init(worker):
    """Import every route module before the worker takes requests. Django loads the URLconf (and with
    it every app's API module and the schema's) on a worker's first request: that request waited
    about half a second of CPU, and in the bench the imports of a fresh worker spilled into the
    measured window (docs/PERFORMANCE.md, "The app tier")."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
