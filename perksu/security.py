"""Security headers on every response: pages, API, admin, docs and static files.

Django's `SecurityMiddleware` already sends `X-Content-Type-Options: nosniff`,
`Referrer-Policy` and `Cross-Origin-Opener-Policy` (settings `SECURE_*`), and
`XFrameOptionsMiddleware` sends `X-Frame-Options`; but WhiteNoise answers
static files before the clickjacking middleware runs, and Django 5.2 has no
Content-Security-Policy. `SecurityHeadersMiddleware` sits right after
`SecurityMiddleware` (so it also wraps WhiteNoise) and sets, unless the view
already did:

- `Content-Security-Policy`: no inline script anywhere, everything from our own
  origin (`POLICY`); a path may get a narrow, documented exception
  (`PATH_EXCEPTIONS`);
- `X-Frame-Options: DENY` (and `frame-ancestors 'none'` in the policy);
- `X-Content-Type-Options`, `Referrer-Policy`, `Cross-Origin-Opener-Policy`
  as a safety net for responses that bypass `SecurityMiddleware`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import rest_framework
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.compat import pygments_css
from rest_framework.renderers import BrowsableAPIRenderer

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-ancestors": ("'none'",),
    "form-action": ("'self'",),
    "base-uri": ("'self'",),
    "object-src": ("'none'",),
}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def drf_style_attribute_hashes() -> tuple[str, ...]:
    """Hashes of every `style="…"` attribute in DRF's browsable-API templates.

    Those pages lay out their buttons with inline style attributes; with
    `'unsafe-hashes'` the browser applies exactly these values and no other
    inline style. Read from the installed templates so an upgrade stays covered.
    """
    root = Path(rest_framework.__file__).parent / "templates" / "rest_framework"
    values = {
        match
        for template in root.rglob("*.html")
        for match in re.findall(r'style="([^"]*)"', template.read_text(encoding="utf-8"))
    }
    hashes = {_sha256(value) for value in values}
    # With Pygments installed the page also carries its highlighting CSS in a <style> block.
    code_style = pygments_css(BrowsableAPIRenderer.code_style)
    if code_style:
        hashes.add(_sha256(code_style))
    return ("'unsafe-hashes'", *sorted(hashes))


# Extra sources for one path prefix (first match wins), each with the reason.
# Only style sources are ever relaxed: script-src stays 'self' on every path.
PATH_EXCEPTIONS: tuple[tuple[str, dict[str, tuple[str, ...]], str], ...] = (
    (
        "/api/docs/",
        # drf-spectacular's swagger_ui.html carries one fixed <style> block (box-sizing,
        # background); its hash allows exactly that block and nothing else.
        {"style-src": ("'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='",)},
        "drf-spectacular's Swagger UI page has a fixed inline <style> block",
    ),
    (
        "/api/",
        {"style-src": drf_style_attribute_hashes()},
        "DRF's browsable API (the HTML view of every endpoint) floats its buttons with style attributes",
    ),
)


def build_policy(path: str = "/") -> str:
    """The Content-Security-Policy header value for a request path."""
    directives = {name: list(sources) for name, sources in POLICY.items()}
    for prefix, extra, _why in PATH_EXCEPTIONS:
        if path.startswith(prefix):
            for name, sources in extra.items():
                directives[name] = [*directives[name], *sources]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


_POLICIES: dict[str, str] = {}


def _policy_for(path: str) -> str:
    key = next((prefix for prefix, _extra, _why in PATH_EXCEPTIONS if path.startswith(prefix)), "")
    if key not in _POLICIES:
        _POLICIES[key] = build_policy(key or "/")
    return _POLICIES[key]


class SecurityHeadersMiddleware:
    """Put the security headers on every response (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _policy_for(request.path))
        if not getattr(response, "xframe_options_exempt", False):
            headers.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY"))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY or "same-origin")
        return response
