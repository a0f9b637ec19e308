"""The chat formats against the rules of Slack's incoming webhooks and Teams' Adaptive Cards."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.utils import timezone

from webhooks import payloads

TEXT_TYPES = {"plain_text", "mrkdwn"}
BLOCK_TYPES = {"section", "header", "context", "divider", "actions", "image", "rich_text"}
# Slack's mrkdwn: &, < and > must be escaped except in the control sequences <url|label>, <@U…>, <!here>.
_CONTROL = re.compile(r"<(https?://[^|>]+\|[^<>]*|https?://[^>]+|[@#!][^<>]*)>")


def check_text_object(obj, *, max_len, plain_only=False):
    assert set(obj) <= {"type", "text", "emoji", "verbatim"}, obj
    assert obj["type"] in ({"plain_text"} if plain_only else TEXT_TYPES)
    assert isinstance(obj["text"], str) and 1 <= len(obj["text"]) <= max_len
    if "emoji" in obj:
        assert obj["type"] == "plain_text"
    if obj["type"] == "mrkdwn":
        bare = re.sub(r"(?m)^>", "", _CONTROL.sub("", obj["text"]))  # a line starting with > is a quote
        assert "<" not in bare and ">" not in bare, f"unescaped markup in {obj['text']!r}"
        assert not re.search(r"&(?!amp;|lt;|gt;)", bare), f"unescaped & in {obj['text']!r}"


def check_slack_message(message: dict) -> None:
    """Slack incoming webhook: top-level `text` fallback, up to 50 `blocks` of known types with valid text objects."""
    assert set(message) <= {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links"}
    assert isinstance(message["text"], str) and 1 <= len(message["text"]) <= 40_000
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        assert block["type"] in BLOCK_TYPES
        if "block_id" in block:
            assert len(block["block_id"]) <= 255
        if block["type"] == "header":
            assert set(block) <= {"type", "text", "block_id"}
            check_text_object(block["text"], max_len=150, plain_only=True)
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                check_text_object(block["text"], max_len=3000)
            for f in block.get("fields", []):
                check_text_object(f, max_len=2000)
            assert len(block.get("fields", [])) <= 10
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                check_text_object(element, max_len=3000)


def _event(**data):
    return payloads.EventMessage(
        id=uuid.uuid4(),
        type=data.pop("type", "recognition.created"),
        tenant_id=uuid.uuid4(),
        occurred_at=timezone.now(),
        data=data,
        tenant_name="Triton <Energy> & Co",
    )


RECOGNITION = {
    "giver": {"name": "Maya Manager"},
    "receivers": [{"name": "Asha Employee"}, {"name": "Ravi Kumar"}],
    "points": 1500,
    "message": "Shipped the <pipeline> on time & under budget",
    "values": [{"name": "Ownership", "hashtag": "ownership"}],
}


def test_a_recognition_reads_as_a_slack_message():
    message = json.loads(payloads.render(_event(**RECOGNITION), "slack"))
    check_slack_message(message)
    assert message["text"].startswith("Maya Manager recognised Asha Employee and Ravi Kumar with 1,500 Points")
    section = message["blocks"][1]["text"]["text"]
    assert "&lt;pipeline&gt;" in section and "&amp; under budget" in section
    assert message["blocks"][2]["elements"][0]["text"] == "Values: #ownership"


@pytest.mark.parametrize(
    "data",
    [
        {**RECOGNITION, "message": "x" * 5000, "receivers": [{"name": f"Person {i}"} for i in range(50)]},
        {**RECOGNITION, "giver": {"name": "<!channel> " + "N" * 300}},
        {"type": "user.created", "email": "new@triton.test", "full_name": "New <Person>"},
        {"type": "pool.low_balance", "balance": 90, "threshold": 100},
        {"type": "books.drift"},
    ],
)
def test_every_event_makes_a_valid_slack_message_within_the_limits(data):
    check_slack_message(json.loads(payloads.render(_event(**data), "slack")))


def test_the_slack_checker_catches_broken_messages():
    """The checker above is the proof; show it refuses what Slack refuses."""
    good = json.loads(payloads.render(_event(**RECOGNITION), "slack"))
    for broken in (
        {k: v for k, v in good.items() if k != "text"},
        {**good, "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]},
        {**good, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
        {**good, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a < b"}}]},
        {**good, "blocks": [{"type": "carousel"}]},
    ):
        with pytest.raises((AssertionError, KeyError)):
            check_slack_message(broken)


def test_a_recognition_makes_a_teams_adaptive_card(settings):
    settings.SITE_URL = "https://perksu.example.com"
    message = json.loads(payloads.render(_event(**RECOGNITION), "teams"))
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (
        card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["$schema"].endswith("adaptive-card.json")
    )
    assert all(b["type"] in {"TextBlock", "FactSet"} for b in card["body"])
    assert all(b["text"] for b in card["body"] if b["type"] == "TextBlock")
    assert card["body"][1]["text"].startswith("Maya Manager recognised Asha Employee and Ravi Kumar")
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Perksu", "url": "https://perksu.example.com/feed/"}
    ]
