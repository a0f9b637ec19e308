"""The built-in consumers of events: in-app notices and e-mail.

Each is a `@job` taking an event id, enqueued by the dispatcher once per event
it hears. Both are safe to run twice: a notice is unique per (member, event,
kind), an e-mail per key (`events.emails.send_email`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from tenants.models import PLATFORM_TENANT_ID, Role, User

from . import event_types as E
from .emails import formatting_for, send_email
from .jobs import job
from .models import EmailCategory, Event, Notification
from .registry import register_consumer


def _points(n: int) -> str:
    try:
        from perksu.formatting import format_number

        return format_number(n)
    except ImportError:  # pragma: no cover
        return f"{n:,}"


def _when(value) -> str:
    try:
        from perksu.formatting import format_datetime

        return format_datetime(value)
    except ImportError:  # pragma: no cover
        return value.strftime("%d %b %Y, %H:%M UTC")


def _managers(tenant_id) -> list[User]:
    return list(User.objects.filter(tenant_id=tenant_id, role=Role.TENANT_MANAGER, is_active=True))


def _users(tenant_id, ids) -> list[User]:
    return list(User.objects.filter(tenant_id=tenant_id, pk__in=list(ids)).select_related("tenant"))


# -- in-app notices -------------------------------------------------------------------------------


def notices_for(event: Event) -> list[tuple[User, str, str, str]]:
    """(member, title, body, url) of every notice an event makes."""
    p = event.payload
    name = event.name
    if name in (E.RECOGNITION_CREATED, E.RECOGNITION_ADD_ON):
        giver = p["giver"]["name"]
        points = p.get("points", 0)
        verb = "added to your recognition" if name == E.RECOGNITION_ADD_ON else "recognised you"
        title = f"{giver} {verb}" + (f" (+{_points(points)} points)" if points else "")
        ids = [r["id"] for r in p.get("recipients", [])]
        return [
            (u, title, p.get("message", "")[:500], reverse("recognition:feed")) for u in _users(event.tenant_id, ids)
        ]
    if name == E.COMMENT_CREATED:
        author = p.get("author", {})
        ids = [r["id"] for r in p.get("recipients", []) if r["id"] != author.get("id")]
        title = f"{author.get('name', 'Someone')} commented on your recognition"
        return [(u, title, p.get("text", "")[:500], reverse("recognition:feed")) for u in _users(event.tenant_id, ids)]
    if name == E.REDEMPTION_ISSUED:
        title = f"Your voucher for {p['reward']['name']} is ready"
        return [(u, title, "", reverse("wallets:rewards")) for u in _users(event.tenant_id, [p["user"]["id"]])]
    if name == E.REDEMPTION_REFUNDED:
        title = f"Your redemption of {p['reward']['name']} was refunded (+{_points(p['points'])} points)"
        return [(u, title, "", reverse("wallets:wallet")) for u in _users(event.tenant_id, [p["user"]["id"]])]
    if name == E.DELEGATION_CREATED:
        title = f"You received {_points(p['amount'])} points to give"
        return [
            (u, title, p.get("note", ""), reverse("points:manage")) for u in _users(event.tenant_id, [p["lead"]["id"]])
        ]
    if name == E.POOL_LOW_BALANCE:
        title = f"The company pool is low: {_points(p['pool_balance'])} points left"
        body = f"Below the threshold of {_points(p['threshold'])} points."
        return [(u, title, body, reverse("points:manage")) for u in _managers(event.tenant_id)]
    if name == E.ALLOCATION_CREATED:
        title = f"{_points(p['amount'])} points were added to the company pool"
        return [(u, title, p.get("note", ""), reverse("points:manage")) for u in _managers(event.tenant_id)]
    if name == E.CLAWBACK_CREATED:
        title = f"{_points(p['amount'])} points were taken back from the company pool"
        return [(u, title, p.get("note", ""), reverse("points:manage")) for u in _managers(event.tenant_id)]
    return []


@job(max_attempts=8, backoff_seconds=10)
def notify_in_app(event_id: str) -> int:
    """Write the event's in-app notices; returns how many are new."""
    event = Event.objects.select_related("tenant").get(pk=event_id)
    with formatting_for(event.tenant):
        notices = notices_for(event)
    rows = [
        Notification(
            tenant_id=event.tenant_id,
            user=user,
            event=event,
            kind=event.name,
            title=title[:200],
            body=body,
            url=url,
            created_at=event.created_at,
        )
        for user, title, body, url in notices
    ]
    before = Notification.objects.filter(event=event).count()
    try:
        with transaction.atomic():
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError:  # pragma: no cover - ignore_conflicts covers it on both databases
        pass
    return Notification.objects.filter(event=event).count() - before


# -- e-mail -------------------------------------------------------------------------------------


def _recognition_emails(event: Event) -> int:
    p = event.payload
    add_on = event.name == E.RECOGNITION_ADD_ON
    sent = 0
    for user in _users(event.tenant_id, [r["id"] for r in p.get("recipients", [])]):
        giver = p["giver"]["name"]
        points = p.get("points", 0)
        subject = f"{giver} added to your recognition" if add_on else f"{giver} recognised you"
        if points:
            subject += f": +{_points(points)} {user.tenant.currency_label.lower()}"
        send_email(
            user=user,
            tenant=user.tenant,
            category=EmailCategory.RECOGNITION,
            key=f"{event.pk}:{user.pk}",
            subject=subject,
            template="recognition",
            context={
                "giver": giver,
                "points": points,
                "points_text": _points(points),
                "message": p.get("message", ""),
                "values": p.get("values", []),
                "add_on": add_on,
                "link": reverse("recognition:feed"),
            },
        )
        sent += 1
    return sent


def _comment_emails(event: Event) -> int:
    p = event.payload
    author = p.get("author", {})
    sent = 0
    for user in _users(event.tenant_id, [r["id"] for r in p.get("recipients", []) if r["id"] != author.get("id")]):
        send_email(
            user=user,
            tenant=user.tenant,
            category=EmailCategory.COMMENT,
            key=f"{event.pk}:{user.pk}",
            subject=f"{author.get('name', 'Someone')} commented on your recognition",
            template="comment",
            context={
                "author": author.get("name", ""),
                "text": p.get("text", ""),
                "link": reverse("recognition:feed"),
            },
        )
        sent += 1
    return sent


def _voucher_emails(event: Event) -> int:
    from wallets.models import Redemption

    p = event.payload
    redemption = (
        Redemption.objects.select_related("user__tenant", "reward")
        .filter(pk=p["redemption_id"], tenant_id=event.tenant_id)
        .first()
    )
    if redemption is None:
        return 0
    user = redemption.user
    send_email(
        user=user,
        tenant=user.tenant,
        category=EmailCategory.VOUCHER,
        key=f"{event.pk}:{user.pk}",
        subject=f"Your voucher for {redemption.reward.name}",
        template="voucher",
        context={
            "reward": redemption.reward.name,
            "code": redemption.voucher_code,
            "points_text": _points(redemption.points_spent),
            "created_text": _when(redemption.created_at),
            "link": reverse("wallets:rewards"),
        },
    )
    return 1


def _pool_low_emails(event: Event) -> int:
    p = event.payload
    sent = 0
    for user in _managers(event.tenant_id):
        send_email(
            user=user,
            tenant=user.tenant,
            category=EmailCategory.POOL_LOW_BALANCE,
            key=f"{event.pk}:{user.pk}",
            subject=f"The company pool is low: {_points(p['pool_balance'])} points left",
            template="pool_low_balance",
            context={
                "pool_text": _points(p["pool_balance"]),
                "threshold_text": _points(p["threshold"]),
                "link": reverse("points:manage"),
            },
        )
        sent += 1
    return sent


def _books_drift_emails(event: Event) -> int:
    p = event.payload
    staff = User.objects.filter(tenant_id=PLATFORM_TENANT_ID, is_active=True)
    admins = staff.filter(is_superuser=True) | staff.filter(role=Role.PLATFORM_ADMIN, is_staff=True)
    sent = 0
    for user in admins.distinct():
        send_email(
            user=user,
            category=EmailCategory.BOOKS_DRIFT,
            key=f"{event.pk}:{user.pk}",
            subject=f"Books drift in {p.get('tenant_slug', 'a tenant')}",
            template="books_drift",
            context={
                "slug": p.get("tenant_slug", ""),
                "drifts": p.get("drifts", []),
                "link": "/admin/ledger-health/",
            },
        )
        sent += 1
    return sent


EMAILS_BY_EVENT = {
    E.RECOGNITION_CREATED: _recognition_emails,
    E.RECOGNITION_ADD_ON: _recognition_emails,
    E.COMMENT_CREATED: _comment_emails,
    E.REDEMPTION_ISSUED: _voucher_emails,
    E.POOL_LOW_BALANCE: _pool_low_emails,
    E.BOOKS_DRIFT: _books_drift_emails,
}


@job(max_attempts=10, backoff_seconds=30)
def send_event_emails(event_id: str) -> int:
    """Send the event's e-mails (each once, by key); returns how many people it concerned."""
    event = Event.objects.select_related("tenant").get(pk=event_id)
    with formatting_for(event.tenant):  # figures and times as the tenant reads them
        return EMAILS_BY_EVENT[event.name](event)


register_consumer(
    "in_app",
    notify_in_app,
    events=[
        E.RECOGNITION_CREATED,
        E.RECOGNITION_ADD_ON,
        E.COMMENT_CREATED,
        E.REDEMPTION_ISSUED,
        E.REDEMPTION_REFUNDED,
        E.DELEGATION_CREATED,
        E.POOL_LOW_BALANCE,
        E.ALLOCATION_CREATED,
        E.CLAWBACK_CREATED,
    ],
)
register_consumer("email", send_event_emails, events=list(EMAILS_BY_EVENT))
