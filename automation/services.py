"""Automated awards: the rules a manager sets, and the daily run that pays them.

The run (`run_for_tenant`) finds who is celebrated on a day in the tenant's time
zone, then pays each occasion in its own transaction: first the key row
`AutomatedAward(tenant, rule, member, date)` under a unique constraint, then the
award through `recognition.services.recognition_award_from_company` (wallet
locked, pool debited last), then the `recognition.created` event. A second run,
even at the same moment on another worker, collides on the key and pays nothing;
one transaction per occasion means a run never holds a wallet lock while it waits
on another run's key, so two runs cannot deadlock.

A pool that cannot pay the whole day's awards pays none of them: the run is
recorded SKIPPED with what was required and available, and the managers are told
once (an `automation.skipped` event and an e-mail). The run is tried again at the
next round of the day, so topping the pool up before midnight pays them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import string
import uuid
import zoneinfo
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from events import event_types
from events.services import record_event
from people.models import Profile
from perksu.errors import DomainError, PermissionDeniedError
from recognition.services import recognition_award_from_company
from tenants.models import MAX_AMOUNT, Role, Tenant, User

from .models import AutomatedAward, AutomationRun, AwardRule

log = logging.getLogger("perksu.automation")

RUN_HOUR = 9
"""The daily run pays from 09:00 in the tenant's time zone."""
PLACEHOLDERS = ("name", "first_name", "years", "company")
MAX_MILESTONES = 30
MAX_DAYS_AFTER_HIRE = 365
Kind = AwardRule.Kind

DEFAULTS: dict[str, dict] = {
    Kind.BIRTHDAY: {"points": 100, "message_template": "Happy birthday, {first_name}! 🎂 From all of us at {company}."},
    Kind.ANNIVERSARY: {
        "milestones": {"1": 100, "3": 300, "5": 1000, "10": 2500},
        "message_template": "Happy {years}-year work anniversary, {first_name}! Thank you from everyone at {company}.",
    },
    Kind.NEW_HIRE: {
        "points": 50,
        "days_after_hire": 0,
        "message_template": "Welcome to {company}, {first_name}! We are glad you are here.",
    },
}


# --- Rules -----------------------------------------------------------------------------------------------------------


def rules_for(tenant_id) -> list[AwardRule]:
    """The tenant's three rules, in kind order; a kind never saved shows its defaults, switched off."""
    saved = {r.kind: r for r in AwardRule.objects.filter(tenant_id=tenant_id)}
    return [saved.get(kind) or AwardRule(tenant_id=tenant_id, kind=kind, **DEFAULTS[kind]) for kind in Kind.values]


def _template(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("A message is required.", code="required", field="message_template")
    if len(text) > 500:
        raise DomainError("The message is longer than 500 characters.", code="too_long", field="message_template")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise DomainError(
            "The message has an unmatched { or }; write {{ or }} for a brace.", code="invalid", field="message_template"
        ) from exc
    for name, spec, conv in fields:
        if name not in PLACEHOLDERS or spec or conv:
            raise DomainError(
                f"Unknown placeholder {{{name}}}: use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}.",
                code="invalid",
                field="message_template",
            )
    return text


def _points(value, field: str = "points") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
        raise DomainError(f"Points are a whole number from 1 to {MAX_AMOUNT:,}.", code="invalid", field=field)
    return value


def _milestones(value) -> dict[str, int]:
    if not isinstance(value, dict) or not value:
        raise DomainError('Give at least one milestone, e.g. {"1": 100}.', code="invalid", field="milestones")
    if len(value) > MAX_MILESTONES:
        raise DomainError(f"At most {MAX_MILESTONES} milestones.", code="invalid", field="milestones")
    clean: dict[str, int] = {}
    for years, points in value.items():
        text = str(years).strip()
        if not text.isdigit() or not 1 <= int(text) <= 60:
            raise DomainError(f"A milestone year is 1 to 60, not {years!r}.", code="invalid", field="milestones")
        clean[str(int(text))] = _points(points, "milestones")
    return dict(sorted(clean.items(), key=lambda item: int(item[0])))


def rule_update(
    *,
    actor: User,
    kind: str,
    is_active: bool | None = None,
    points: int | None = None,
    milestones: dict | None = None,
    days_after_hire: int | None = None,
    message_template: str | None = None,
) -> AwardRule:
    """Change one of the tenant's rules (made from the defaults on first change)."""
    if not (actor.is_active and actor.is_manager):
        raise PermissionDeniedError("Only tenant managers set automated awards.")
    if kind not in Kind.values:
        raise DomainError(f"Unknown rule {kind!r}.", code="invalid", field="kind")
    with transaction.atomic():
        rule = AwardRule.objects.select_for_update().filter(tenant_id=actor.tenant_id, kind=kind).first()
        if rule is None:
            rule = AwardRule(tenant_id=actor.tenant_id, kind=kind, **DEFAULTS[kind])
        if points is not None:
            rule.points = _points(points)
        if milestones is not None:
            rule.milestones = _milestones(milestones)
        if days_after_hire is not None:
            if isinstance(days_after_hire, bool) or not 0 <= days_after_hire <= MAX_DAYS_AFTER_HIRE:
                raise DomainError(
                    f"Days after hire are 0 to {MAX_DAYS_AFTER_HIRE}.", code="invalid", field="days_after_hire"
                )
            rule.days_after_hire = days_after_hire
        if message_template is not None:
            rule.message_template = _template(message_template)
        if is_active is not None:
            rule.is_active = is_active
        cap = Tenant.objects.values_list("max_award_points", flat=True).get(pk=actor.tenant_id)
        largest = max(rule.milestones.values(), default=0) if kind == Kind.ANNIVERSARY else rule.points
        if rule.is_active and cap is not None and largest > cap:
            raise DomainError(
                f"{largest} points is over this company's cap of {cap} per recipient.",
                code="over_award_cap",
                field="milestones" if kind == Kind.ANNIVERSARY else "points",
                maximum=cap,
            )
        rule.updated_by = actor
        rule.updated_at = timezone.now()
        rule.save()
    return rule


def render_message(template: str, *, user: User, years: int | None, company: str) -> str:
    name = user.full_name or user.email
    values = {"name": name, "first_name": name.split()[0], "years": str(years or ""), "company": company}
    out = []
    for literal, field, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            out.append(values.get(field, ""))
    return "".join(out)


# --- Who is celebrated on a day --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occasion:
    rule: AwardRule
    user: User
    points: int
    years: int | None
    day: dt.date


def _same_day(field: str, day: dt.date) -> Q:
    """Month and day equal `day`; on 28 February of a common year, 29 February too."""
    q = Q(**{f"{field}_month": day.month, f"{field}_day": day.day})
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        q |= Q(**{f"{field}_month": 2, f"{field}_day": 29})
    return q


def due_occasions(tenant: Tenant, day: dt.date) -> list[Occasion]:
    """Every occasion of `day` under the tenant's active rules, less those already paid."""
    rules = {r.kind: r for r in AwardRule.objects.filter(tenant_id=tenant.pk, is_active=True)}
    if not rules:
        return []
    members = Profile.objects.filter(
        tenant_id=tenant.pk, user__tenant_id=tenant.pk, user__is_active=True, user__role__in=[
            Role.TENANT_MANAGER, Role.TENANT_LEAD, Role.EMPLOYEE
        ]
    ).select_related("user")  # fmt: skip
    occasions: list[Occasion] = []
    if rule := rules.get(Kind.BIRTHDAY):
        for p in members.filter(_same_day("birthday", day), birthday_consent=True):
            occasions.append(Occasion(rule, p.user, rule.points, None, day))
    if rule := rules.get(Kind.ANNIVERSARY):
        hired = Q(hire_date__month=day.month, hire_date__day=day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            hired |= Q(hire_date__month=2, hire_date__day=29)
        for p in members.filter(hired, hire_date__year__lt=day.year):
            years = day.year - p.hire_date.year
            points = rule.milestones.get(str(years))
            if points:
                occasions.append(Occasion(rule, p.user, points, years, day))
    if rule := rules.get(Kind.NEW_HIRE):
        for p in members.filter(hire_date=day - dt.timedelta(days=rule.days_after_hire)):
            occasions.append(Occasion(rule, p.user, rule.points, None, day))
    paid = set(AutomatedAward.objects.filter(tenant_id=tenant.pk, occasion_date=day).values_list("rule_id", "user_id"))
    return [o for o in occasions if (o.rule.pk, o.user.pk) not in paid and o.points > 0]


# --- The run ---------------------------------------------------------------------------------------------------------


def pay_occasion(tenant: Tenant, occasion: Occasion) -> bool:
    """Pay one occasion in its own transaction; False if it was already paid (by this or a concurrent run)."""
    message = render_message(
        occasion.rule.message_template, user=occasion.user, years=occasion.years, company=tenant.name
    )
    try:
        with transaction.atomic():
            key = AutomatedAward.objects.create(
                tenant_id=tenant.pk,
                rule=occasion.rule,
                user=occasion.user,
                occasion_date=occasion.day,
                points=occasion.points,
                recognition_group_id=uuid.uuid4(),
            )
            result = recognition_award_from_company(
                tenant_id=tenant.pk, recipient_id=occasion.user.pk, points=occasion.points, message=message
            )
            AutomatedAward.objects.filter(tenant_id=tenant.pk, pk=key.pk).update(recognition_group_id=result.group_id)
            recognition = result.recognitions[0]
            record_event(
                tenant_id=tenant.pk,
                name=event_types.RECOGNITION_CREATED,
                payload={
                    "group_id": str(result.group_id),
                    "giver": {"id": None, "name": tenant.name},
                    "points": occasion.points,
                    "funding_source": result.funding_source,
                    "message": message,
                    "recipients": [
                        {
                            "id": str(occasion.user.pk),
                            "name": occasion.user.full_name or occasion.user.email,
                            "recognition_id": str(recognition.pk),
                        }
                    ],
                    "values": [],
                    "automated": occasion.rule.kind,
                },
            )
    except IntegrityError:
        return False
    return True


def _save_run(tenant: Tenant, day: dt.date, **fields) -> AutomationRun:
    fields["updated_at"] = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                run, _ = AutomationRun.objects.update_or_create(tenant_id=tenant.pk, run_date=day, defaults=fields)
                return run
        except IntegrityError:  # a concurrent run created it first: update theirs
            continue
    raise RuntimeError("could not record the automation run")


def run_for_tenant(*, tenant_id, day: dt.date) -> AutomationRun:
    """Pay every occasion of `day` for one tenant, at most once each; record the run."""
    tenant = Tenant.objects.get(pk=tenant_id)
    occasions = due_occasions(tenant, day)
    paid_before = AutomatedAward.objects.filter(tenant_id=tenant.pk, occasion_date=day)
    if not occasions:
        count = paid_before.count()
        status = AutomationRun.Status.PAID if count else AutomationRun.Status.NOTHING_DUE
        return _save_run(tenant, day, status=status, paid=count, due=count, detail="")
    required = sum(o.points for o in occasions)
    if not tenant.is_active or tenant.points_allocation_balance < required:
        detail = (
            "The company is suspended."
            if not tenant.is_active
            else f"Insufficient company allocation pool. Available: {tenant.points_allocation_balance}, "
            f"Required: {required}."
        )
        return _skip(tenant, day, due=len(occasions), required=required, detail=detail)

    paid, points_paid, refused = 0, 0, []
    for occasion in occasions:
        try:
            if pay_occasion(tenant, occasion):
                paid += 1
                points_paid += occasion.points
        except DomainError as exc:  # the pool emptied meanwhile, a cap, a member deactivated this minute
            refused.append(exc.message)
    if refused:
        tenant.refresh_from_db(fields=["points_allocation_balance", "status"])
        return _skip(
            tenant, day, due=len(occasions), required=required, detail=refused[0], paid=paid, points_paid=points_paid
        )
    return _save_run(
        tenant,
        day,
        status=AutomationRun.Status.PAID,
        due=len(occasions),
        paid=paid,
        points_required=required,
        points_paid=points_paid,
        pool_available=None,
        detail="",
    )


def _skip(tenant: Tenant, day: dt.date, *, due: int, required: int, detail: str, paid=0, points_paid=0):
    run = _save_run(
        tenant,
        day,
        status=AutomationRun.Status.SKIPPED,
        due=due,
        paid=paid,
        points_required=required,
        points_paid=points_paid,
        pool_available=tenant.points_allocation_balance,
        detail=detail[:500],
    )
    _tell_managers(tenant, run)
    return run


def _tell_managers(tenant: Tenant, run: AutomationRun) -> None:
    """Once per tenant and day: an `automation.skipped` event and an e-mail to every active manager."""
    with transaction.atomic():
        first = AutomationRun.objects.filter(tenant_id=tenant.pk, pk=run.pk, managers_notified_at__isnull=True).update(
            managers_notified_at=timezone.now()
        )
        if not first:
            return
        record_event(
            tenant_id=tenant.pk,
            name=event_types.AUTOMATION_SKIPPED,
            payload={
                "run_date": run.run_date.isoformat(),
                "due": run.due,
                "points_required": run.points_required,
                "pool_available": run.pool_available,
                "detail": run.detail,
            },
        )
    from events.emails import send_email
    from events.models import EmailCategory

    for manager in User.objects.filter(tenant_id=tenant.pk, role=Role.TENANT_MANAGER, is_active=True):
        try:
            send_email(
                user=manager,
                category=EmailCategory.POOL_LOW_BALANCE,
                key=f"automation-skipped:{run.pk}:{manager.pk}",
                subject=f"Automated awards of {run.run_date:%d %b %Y} were not paid",
                template="automation_skipped",
                context={"run": run, "tenant": tenant},
                tenant=tenant,
            )
        except Exception:  # a mail server down must not undo the run's record; logged for the operator
            log.exception("could not e-mail %s about the skipped automation run %s", manager.pk, run.pk)


def local_day(tenant: Tenant, now: dt.datetime) -> tuple[dt.date, bool]:
    """The tenant's date at `now`, and whether its daily run time has come."""
    local = now.astimezone(zoneinfo.ZoneInfo(tenant.timezone or "UTC"))
    return local.date(), local.hour >= RUN_HOUR


def run_due(*, now: dt.datetime | None = None) -> int:
    """The scheduler's entry: run every tenant whose day has reached 09:00 and is not done yet; returns how many ran."""
    now = now or timezone.now()
    tenant_ids = AwardRule.objects.filter(is_active=True).values_list("tenant_id", flat=True).distinct()
    ran = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids, status=Tenant.Status.ACTIVE):
        day, time_has_come = local_day(tenant, now)
        if not time_has_come:
            continue
        done = AutomationRun.objects.filter(
            tenant_id=tenant.pk, run_date=day, status__in=[AutomationRun.Status.PAID, AutomationRun.Status.NOTHING_DUE]
        ).exists()
        if done:
            continue
        run_for_tenant(tenant_id=tenant.pk, day=day)
        ran += 1
    return ran
