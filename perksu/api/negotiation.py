"""Content negotiation: DRF's, with a shortcut for what API clients send."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's `DefaultContentNegotiation`, answering the usual API request without parsing it.

    With no format override (no `.json`-style suffix, no `?format=`) and an `Accept` header that
    is absent, `*/*` or exactly the first renderer's media type (`application/json`), DRF's
    answer is always the first renderer with its own media type: that pair is returned without
    building `request.headers` or parsing the header. Every other request — the browsable API's
    `text/html`, quality values, parameters, lists, an empty header (406), the overrides — is
    negotiated by DRF itself. `perksu/tests/test_negotiation.py` holds the two to the same answers.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        if renderers and not format_suffix:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            if accept is None or accept == "*/*" or accept == first.media_type:
                param = self.settings.URL_FORMAT_OVERRIDE
                if not (param and request.query_params.get(param)):
                    return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
