"""perksu/gunicorn.conf.py: what a worker does before its first request."""

import runpy
from pathlib import Path

from django.urls import clear_url_caches, get_resolver

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_imports_every_route_before_its_first_request():
    hook = runpy.run_path(str(CONF))["post_worker_init"]
    clear_url_caches()
    resolver = get_resolver()
    assert "url_patterns" not in resolver.__dict__  # Django's default: on the first request
    hook(worker=None)
    assert "url_patterns" in resolver.__dict__
    assert resolver.resolve("/api/v1/points/award-to-user").url_name
