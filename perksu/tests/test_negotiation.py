"""`perksu.api.negotiation.ContentNegotiation`: DRF's answers, the usual ones without parsing."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from perksu.api.negotiation import ContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "",
    "text/html",
    "application/json; indent=4",
    "application/json;indent=2",
    "*/*;q=0.8",
    "text/html, application/json",
    "application/json, text/html;q=0.9",
    "application/*",
    "application/xml",
    "Application/JSON",
    " application/json",
]


def _answer(negotiation, accept, query, suffix):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/v1/points/award-to-user" + query, **extra))
    renderers = [cls() for cls in api_settings.DEFAULT_RENDERER_CLASSES]
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as exc:  # the same refusal from both is the same answer
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=api", "?format=json", "?format=", "?format=xml", "?other=1"])
@pytest.mark.parametrize("suffix", [None, "json", "api"])
def test_the_same_answer_as_drf(accept, query, suffix):
    assert _answer(ContentNegotiation(), accept, query, suffix) == _answer(
        DefaultContentNegotiation(), accept, query, suffix
    )


def test_the_api_negotiates_with_it_and_skips_the_parse_for_json_clients(monkeypatch, rf):
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation

    def parse(self, request):
        raise AssertionError("parsed")

    monkeypatch.setattr(DefaultContentNegotiation, "_get_parsed_accept_list", parse)
    renderers = [cls() for cls in api_settings.DEFAULT_RENDERER_CLASSES]
    for accept in (None, "*/*", "application/json"):
        extra = {} if accept is None else {"HTTP_ACCEPT": accept}
        request = Request(rf.get("/api/v1/wallets/me", **extra))
        renderer, media_type = ContentNegotiation().select_renderer(request, renderers)
        assert (type(renderer).__name__, media_type) == ("JSONRenderer", "application/json")
    with pytest.raises(AssertionError, match="parsed"):
        ContentNegotiation().select_renderer(Request(rf.get("/", HTTP_ACCEPT="text/html")), renderers)


def test_an_empty_accept_header_is_still_not_acceptable():
    renderers = [cls() for cls in api_settings.DEFAULT_RENDERER_CLASSES]
    request = Request(APIRequestFactory().get("/api/v1/wallets/me", HTTP_ACCEPT=""))
    with pytest.raises(NotAcceptable):
        ContentNegotiation().select_renderer(request, renderers)
