"""The body of a delivery in each endpoint format, built once when the delivery is made.

- `json`: the event itself, `{"id", "type", "timestamp", "tenant_id", "data"}` (the
  Standard Webhooks payload shape);
- `slack`: a Slack incoming-webhook message, a top-level `text` (the notification and
  screen-reader fallback) and Block Kit `blocks` (header, section, context), within
  Slack's limits (header 150 characters, section text 3,000, context 10 elements);
- `teams`: a Microsoft Teams incoming-webhook message carrying an Adaptive Card 1.4.

The chat formats are for people: a recognition reads "Asha Rao recognised Ravi Kumar
with 100 Points" with the message quoted; other events get a one-line summary.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FALLBACK_MAX = 4000
SLACK_CONTEXT_MAX = 10


@dataclass(frozen=True)
class EventMessage:
    """What a delivery says: one business event of a tenant."""

    id: UUID
    type: str
    tenant_id: UUID
    occurred_at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)
    tenant_name: str = ""
    currency_label: str = "Points"


@dataclass(frozen=True)
class Summary:
    title: str
    text: str
    quote: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    link: str = ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(value: Any) -> str:
    """A person in an event's data: a name string, or an object with `name` / `full_name` / `email`."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("full_name") or value.get("email") or "")
    return str(value or "")


def _names(values: Any) -> str:
    names = [_name(v) for v in values or [] if _name(v)]
    if len(names) <= 3:
        return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")
    return f"{', '.join(names[:3])} and {len(names) - 3} more"


def _link(path: str) -> str:
    base = getattr(settings, "SITE_URL", "") or ""
    return f"{base.rstrip('/')}{path}" if base and path else ""


def summarise(event: EventMessage) -> Summary:
    """A human summary of an event for chat messages."""
    d = event.data
    label = d.get("currency_label") or event.currency_label or "Points"
    points = d.get("points") or d.get("amount") or 0
    if event.type in ("recognition.created", "recognition.add_on"):
        giver = _name(d.get("giver")) or _name(d.get("giver_name")) or event.tenant_name or "Someone"
        receivers = _names(d.get("receivers") or d.get("recipients") or [d.get("receiver")])
        verb = "added to the recognition of" if event.type == "recognition.add_on" else "recognised"
        text = f"{giver} {verb} {receivers or 'a colleague'}"
        if points:
            text += f" with {int(points):,} {label}"
        values = [
            v if isinstance(v, str) else str(v.get("hashtag") or v.get("name") or "") for v in d.get("values") or []
        ]
        facts = (("Values", ", ".join(f"#{v.lstrip('#')}" for v in values if v)),) if values else ()
        return Summary(
            title="🎉 New recognition" if event.type == "recognition.created" else "➕ Recognition add-on",
            text=text,
            quote=str(d.get("message") or ""),
            facts=facts,
            link=_link(str(d.get("path") or "/feed/")),
        )
    title = event.type.replace(".", " ").replace("_", " ").capitalize()
    parts = [f"{k.replace('_', ' ')}: {v}" for k, v in d.items() if isinstance(v, str | int) and not k.endswith("_id")]
    return Summary(title=title, text="; ".join(parts[:6]) or title)


def json_body(event: EventMessage) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.type,
        "timestamp": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "tenant_id": str(event.tenant_id),
        "data": event.data,
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(event: EventMessage) -> dict[str, Any]:
    s = summarise(event)
    text = _slack_escape(s.text)
    section = f"*{text}*"
    if s.quote:
        section += "\n>" + _slack_escape(s.quote).replace("\n", "\n>")
    if s.link:
        section += f"\n<{s.link}|Open in Perksu>"
    context = [{"type": "mrkdwn", "text": _clip(_slack_escape(f"{k}: {v}"), SLACK_TEXT_MAX)} for k, v in s.facts]
    context.append({"type": "mrkdwn", "text": _clip(_slack_escape(event.tenant_name or "Perksu"), SLACK_TEXT_MAX)})
    fallback = s.text + (f": “{s.quote}”" if s.quote else "")
    return {
        "text": _clip(fallback, SLACK_FALLBACK_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _clip(s.title, SLACK_HEADER_MAX), "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(section, SLACK_TEXT_MAX)}},
            {"type": "context", "elements": context[:SLACK_CONTEXT_MAX]},
        ],
    }


def teams_body(event: EventMessage) -> dict[str, Any]:
    s = summarise(event)
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": s.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": s.text, "wrap": True},
    ]
    if s.quote:
        body.append({"type": "TextBlock", "text": f"“{s.quote}”", "wrap": True, "isSubtle": True})
    if s.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in s.facts]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if s.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Perksu", "url": s.link}]
    return {
        "type": "message",
        "summary": s.text[:200],
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


BUILDERS = {"json": json_body, "slack": slack_body, "teams": teams_body}


def render(event: EventMessage, fmt: str) -> str:
    """The delivery body as the exact text that is signed and sent."""
    return json.dumps(BUILDERS[fmt](event), cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
