"""Every write to tenants and users.

A member's wallet, and a lead's budget, are opened by the same transaction that
creates or promotes the user, never lazily inside a read.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from events import event_types, payloads
from events.services import record_event
from perksu.errors import DomainError, PermissionDeniedError

from .models import TENANT_ROLES, Role, SettingsChangeLog, Tenant, TenantSlug, User, email_key, platform_tenant


def tenant_create(
    *,
    name: str,
    slug: str,
    currency: str = "INR",
    currency_label: str = "Points",
    point_value: Decimal | None = None,
    low_balance_threshold: int = 100,
    max_award_points: int | None = None,
) -> Tenant:
    tenant = Tenant(
        name=name.strip(),
        slug=slug.strip().lower(),
        currency=(currency or "INR").upper(),
        currency_label=currency_label or "Points",
        point_value=Decimal("1.00") if point_value is None else point_value,
        low_balance_threshold=low_balance_threshold,
        max_award_points=max_award_points,
    )
    _full_clean(tenant, exclude=["points_allocation_balance"])
    try:
        with transaction.atomic():
            # The slug first: a second create of the same slug waits here for the first to end,
            # then fails on the key, before writing anything.
            TenantSlug.objects.create(slug=tenant.slug, tenant_id=tenant.pk)
            tenant.save(force_insert=True)
    except IntegrityError as exc:
        raise _duplicate_slug(tenant.slug) from exc
    return tenant


def tenant_change_slug(*, tenant: Tenant, slug: str) -> Tenant:
    """Give a tenant another slug. The old one is free again once this commits; a slug held by
    another tenant (or the platform) is refused and nothing changes."""
    slug = (slug or "").strip().lower()
    probe = Tenant(slug=slug)
    try:
        probe.clean_fields(exclude=[f.name for f in Tenant._meta.fields if f.name != "slug"])
    except ValidationError as exc:
        raise DomainError(f"slug: {exc.message_dict['slug'][0]}", code="invalid", field="slug") from exc
    try:
        with transaction.atomic():
            # The tenant's slug row changes key in place: one statement, refused if the new key is taken.
            moved = TenantSlug.objects.filter(tenant_id=tenant.pk).update(slug=slug)
            if not moved:  # a tenant without its row (reconcile reports it) gets one now
                TenantSlug.objects.create(slug=slug, tenant_id=tenant.pk)
            Tenant.with_platform.filter(pk=tenant.pk).update(slug=slug)
    except IntegrityError as exc:
        raise _duplicate_slug(slug) from exc
    tenant.slug = slug
    return tenant


def _duplicate_slug(slug: str) -> DomainError:
    return DomainError(f"A tenant with slug {slug!r} already exists.", code="duplicate_slug")


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    """Suspend or reactivate. A suspended tenant can receive allocations but moves no points."""
    if status not in Tenant.Status.values:
        raise DomainError(f"Unknown status {status!r}.", code="invalid_status")
    # A single-column UPDATE: it must not write back a stale pool balance.
    Tenant.objects.filter(pk=tenant.pk).update(status=status)
    tenant.status = status
    return tenant


def user_create(
    *,
    email: str,
    full_name: str,
    role: str,
    password: str | None,
    tenant: Tenant | None = None,
    is_active: bool = True,
) -> User:
    """Create a user; a tenant member gets its wallet and profile, a lead its budget, in the same transaction."""
    from people.models import Profile
    from points.models import LeadBudget
    from wallets.models import Wallet

    email = email_key(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("Enter a valid email address.", code="invalid_email") from exc
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", code="invalid_role")
    if role == Role.PLATFORM_ADMIN and tenant is not None:
        raise DomainError("Platform admins belong to no tenant.", code="invalid_role")
    if role != Role.PLATFORM_ADMIN and tenant is None:
        raise DomainError("A tenant member needs a tenant.", code="tenant_required")

    user = User(
        email=email,
        full_name=(full_name or "").strip(),
        role=role,
        tenant=tenant if tenant is not None else platform_tenant(),
        is_active=is_active,
        is_staff=role == Role.PLATFORM_ADMIN,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), code="invalid_password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()

    try:
        with transaction.atomic():
            user.save(force_insert=True)
            if tenant is not None:
                Wallet.objects.create(tenant=tenant, user=user)
                Profile.objects.create(user=user, tenant=tenant)
            if role == Role.TENANT_LEAD:
                LeadBudget.objects.create(tenant=tenant, lead=user)
            if tenant is not None:
                record_event(tenant_id=tenant.pk, name=event_types.USER_CREATED, payload=payloads.user(user))
    except IntegrityError as exc:
        raise DomainError(f"A user with email {email} already exists.", code="duplicate_email") from exc
    return user


def user_update_identity(*, user: User, email: str | None = None, full_name: str | None = None) -> User:
    """Change a user's e-mail (their login) and/or name; None leaves one as it is.

    The e-mail's row in `user_emails` moves in the same transaction as the user's row
    (`User.save`), and the update names the tenant as well as the id. An e-mail held by anyone
    else, in any tenant, is refused and nothing changes."""
    fields: dict[str, str] = {}
    if email is not None:
        email = email_key(email)
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError("Enter a valid email address.", code="invalid_email", field="email") from exc
        if email != user.email:
            fields["email"] = email
    if full_name is not None:
        full_name = full_name.strip()
        if not full_name or len(full_name) > 200:
            raise DomainError("A name is 1 to 200 characters.", code="invalid", field="full_name")
        if full_name != user.full_name:
            fields["full_name"] = full_name
    if not fields:
        return user
    before = {name: getattr(user, name) for name in fields}
    for name, value in fields.items():
        setattr(user, name, value)
    try:
        with transaction.atomic():
            user.save(update_fields=list(fields))
    except IntegrityError as exc:
        for name, value in before.items():
            setattr(user, name, value)
        raise DomainError(f"A user with email {email} already exists.", code="duplicate_email", field="email") from exc
    return user


def user_change_role(*, user: User, role: str, actor: User | None = None) -> User:
    """Change a tenant member's role. A lead keeps its budget row; one that still
    holds points must have them recalled first, so no points are stranded.
    Nobody changes their own role (a manager could otherwise leave the tenant unmanaged)."""
    from points.models import LeadBudget

    if actor is not None and actor.pk == user.pk:
        raise PermissionDeniedError("You cannot change your own role.")
    if user.member_tenant_id is None or role not in [r.value for r in TENANT_ROLES]:
        raise DomainError("Only tenant members change between tenant roles.", code="invalid_role")
    with transaction.atomic():
        if user.role == Role.TENANT_LEAD and role != Role.TENANT_LEAD:
            # The budget row only, never the user row (see points.services.lead_recall).
            budget = (
                LeadBudget.objects.select_for_update(of=("self",)).filter(tenant_id=user.tenant_id, lead=user).first()
            )
            if budget is not None and budget.balance > 0:
                raise DomainError(
                    f"This lead still holds {budget.balance} delegated points. Recall them first.",
                    code="lead_budget_not_empty",
                    available=budget.balance,
                )
        if role == Role.TENANT_LEAD:
            LeadBudget.objects.get_or_create(tenant_id=user.tenant_id, lead=user)
        User.objects.filter(tenant_id=user.tenant_id, pk=user.pk).update(role=role)
    user.role = role
    return user


def user_set_active(*, user: User, is_active: bool, actor: User | None = None) -> User:
    """Deactivate or reactivate. A deactivated user cannot log in or receive points;
    the wallet, budget and history stay. Deactivation also ends every session and API
    token of the user at once, in the same transaction; a reactivation does not bring
    them back (SPEC §11)."""
    from identity.services import user_credentials_revoke

    if actor is not None and actor.pk == user.pk and not is_active:
        raise PermissionDeniedError("You cannot deactivate yourself.")
    with transaction.atomic():
        changed = (
            User.objects.filter(tenant_id=user.tenant_id, pk=user.pk)
            .exclude(is_active=is_active)
            .update(is_active=is_active)
        )
        user.is_active = is_active
        if not is_active:
            user_credentials_revoke(user=user)
        if changed and not is_active and user.member_tenant_id is not None:
            record_event(
                tenant_id=user.tenant_id,
                name=event_types.USER_DEACTIVATED,
                payload=payloads.user(user),
                actor_id=getattr(actor, "pk", None),
            )
    return user


def _full_clean(instance, *, exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        first_field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(f"{first_field}: {messages[0]}", code="invalid", field=first_field) from exc


SETTINGS_FIELDS = (
    "timezone",
    "locale",
    "allowance_period",
    "allowance_employee",
    "allowance_lead",
    "allowance_manager",
    "require_value",
    "low_balance_threshold",
    "max_award_points",
    "leaver_policy",
    "leaver_forfeit_days",
    "leaderboard_enabled",
)
"""The programme settings a manager edits (SPEC §9); platform admins edit the same in the console."""


def _setting_text(value) -> str:
    return "" if value is None else str(value)


def tenant_settings_update(*, actor: User, tenant: Tenant, changes: dict) -> list[SettingsChangeLog]:
    """Change programme settings of `tenant`; one SettingsChangeLog per changed field, same transaction.

    `actor` is a manager of that tenant or a platform admin. Values are validated by
    the model's validators (integers ≥ 0, a real IANA time zone, a known locale); the
    first bad one refuses the whole change, naming its field. Only the changed columns
    are written, in one UPDATE (never the pool balance read earlier).
    """
    if not (actor.is_platform_admin or (actor.is_active and actor.is_manager and actor.tenant_id == tenant.pk)):
        raise PermissionDeniedError("Only the tenant's managers and platform admins change its settings.")
    unknown = [name for name in changes if name not in SETTINGS_FIELDS]
    if unknown:
        raise DomainError(f"{unknown[0]} is not a programme setting.", code="invalid", field=unknown[0])
    with transaction.atomic():
        # Locked so two concurrent changes log the true old values; held for a moment only.
        current = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = {name: getattr(current, name) for name in changes}
        changed = {name: value for name, value in changes.items() if before[name] != value}
        for name, value in changed.items():
            setattr(current, name, value)
        _full_clean(current, exclude=[f.name for f in Tenant._meta.fields if f.name not in changed])
        if not changed:
            return []
        Tenant.objects.filter(pk=tenant.pk).update(**changed)
        logs = SettingsChangeLog.objects.bulk_create(
            [
                SettingsChangeLog(
                    tenant_id=tenant.pk,
                    actor=actor,
                    field=name,
                    old_value=_setting_text(before[name]),
                    new_value=_setting_text(value),
                )
                for name, value in changed.items()
            ]
        )
    for name, value in changed.items():
        setattr(tenant, name, value)
    return logs
