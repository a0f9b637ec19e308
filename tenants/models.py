"""Tenants (companies) and the people who work in them."""

from __future__ import annotations

import uuid
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .fields import TenantRow

MAX_AMOUNT = 1_000_000_000
"""The largest amount of one operation (SPEC §3)."""

PLATFORM_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-00000000f1a7")
"""The platform's own tenant row, where platform staff's user rows live.

Staff belong to no customer, but a user row without a tenant could not be placed when the
tables are distributed by tenant (docs/SCALING.md): so staff rows carry this tenant, which is
hidden from every list and lookup of tenants (`Tenant.objects`), can hold no points (a check
constraint) and has no members but staff (another). In Python, staff still read as belonging to
no tenant: `User.member_tenant_id` is None for them, and services take `tenant=None` for staff."""
PLATFORM_TENANT_SLUG = "perksu-platform"


LOCALES = {
    "en": "English",
    "en-GB": "English (United Kingdom)",
    "en-IN": "English (India)",
    "en-US": "English (United States)",
    "de-DE": "Deutsch (Deutschland)",
    "fr-FR": "Français (France)",
    "es-ES": "Español (España)",
    "hi-IN": "हिन्दी (भारत)",
}
"""The locales whose number and date formats the pages and e-mails know (SPEC §9)."""


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}: use an IANA name such as Asia/Kolkata.", code="invalid")


def validate_locale(value: str) -> None:
    if value not in LOCALES:
        known = ", ".join(sorted(LOCALES))
        raise ValidationError(f"Unknown locale {value!r}: use one of {known}.", code="invalid")


class TenantManager(models.Manager["Tenant"]):
    """Customers only: the platform's own row (PLATFORM_TENANT_ID) is never listed, found or changed
    through it. Related lookups (`user.tenant`) use Django's base manager and still reach it."""

    def get_queryset(self):
        return super().get_queryset().exclude(pk=PLATFORM_TENANT_ID)


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        SUSPENDED = "SUSPENDED", "Suspended"

    class AllowancePeriod(models.TextChoices):
        WEEK = "WEEK", "Week (from Monday)"
        MONTH = "MONTH", "Month"
        QUARTER = "QUARTER", "Quarter"

    class LeaverPolicy(models.TextChoices):
        KEEP = "KEEP", "Keep the wallet"
        FORFEIT = "FORFEIT", "Return the wallet to the pool after the forfeit days"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Unique across tenants through `TenantSlug` (written with every create and change), not here:
    # a unique index without tenant_id cannot be kept on a table distributed by tenant.
    slug = models.SlugField(max_length=80)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(
        max_length=3,
        default="INR",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. INR.")],
    )
    currency_label = models.CharField(max_length=40, default="Points")
    point_value = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    # The pool: company points not yet delegated or awarded. Only services write it.
    points_allocation_balance = models.BigIntegerField(default=0, editable=False)
    low_balance_threshold = models.BigIntegerField(default=100, validators=[MinValueValidator(0)])
    max_award_points = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Largest number of points one recipient may get in one recognition (empty: no cap).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # `timezone` below shadows django.utils.timezone in this class body: keep it after created_at.
    # Programme settings (SPEC §9), edited by managers and platform admins; every change is logged.
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=16, default="en", validators=[validate_locale])
    allowance_period = models.CharField(max_length=8, choices=AllowancePeriod.choices, default=AllowancePeriod.MONTH)
    allowance_employee = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    allowance_lead = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    allowance_manager = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    require_value = models.BooleanField(default=False)
    leaver_policy = models.CharField(max_length=8, choices=LeaverPolicy.choices, default=LeaverPolicy.KEEP)
    leaver_forfeit_days = models.IntegerField(default=90, validators=[MinValueValidator(0)])
    leaderboard_enabled = models.BooleanField(default=True, help_text="Show top givers and receivers in insights.")

    with_platform = models.Manager()
    objects = TenantManager()

    class Meta:
        db_table = "tenants"
        ordering = ["name"]
        default_manager_name = "objects"
        constraints = [
            # The platform's own row holds no points, ever.
            models.CheckConstraint(
                condition=~Q(id=PLATFORM_TENANT_ID) | Q(points_allocation_balance=0),
                name="tenant_platform_holds_nothing",
            ),
            models.CheckConstraint(condition=Q(points_allocation_balance__gte=0), name="tenant_pool_non_negative"),
            models.CheckConstraint(condition=Q(low_balance_threshold__gte=0), name="tenant_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(max_award_points__isnull=True) | Q(max_award_points__gte=1),
                name="tenant_award_cap_positive",
            ),
            models.CheckConstraint(condition=Q(status__in=["ACTIVE", "SUSPENDED"]), name="tenant_status_valid"),
            models.CheckConstraint(
                condition=Q(allowance_employee__gte=0) & Q(allowance_lead__gte=0) & Q(allowance_manager__gte=0),
                name="tenant_allowances_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(allowance_period__in=["WEEK", "MONTH", "QUARTER"]), name="tenant_allowance_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(leaver_policy__in=["KEEP", "FORFEIT"]), name="tenant_leaver_policy_valid"
            ),
            models.CheckConstraint(condition=Q(leaver_forfeit_days__gte=0), name="tenant_forfeit_days_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantSlug(models.Model):
    """Who holds each slug: the one place a slug is unique across tenants.

    `tenants` is distributed by tenant on Citus (docs/SCALING.md), where a unique index must include
    the tenant, so global uniqueness lives in this small table, kept as a reference table (a copy on
    every node). It therefore has no foreign key to `tenants`: `tenant_id` is a plain column, written
    by `tenants.services` in the same transaction as the tenant's row, and checked by reconcile.
    """

    slug = models.SlugField(max_length=80, primary_key=True)
    tenant_id = models.UUIDField(unique=True)

    class Meta:
        db_table = "tenant_slugs"

    def __str__(self) -> str:
        return f"{self.slug} → {self.tenant_id}"


def platform_tenant() -> Tenant:
    """The platform's own tenant row (made by a migration; made again here after a test flushed it),
    with its slug taken so that no customer can have it."""
    tenant, created = Tenant.with_platform.get_or_create(
        pk=PLATFORM_TENANT_ID, defaults={"name": "Perksu platform staff", "slug": PLATFORM_TENANT_SLUG}
    )
    if created:
        TenantSlug.objects.get_or_create(tenant_id=PLATFORM_TENANT_ID, defaults={"slug": PLATFORM_TENANT_SLUG})
    return tenant


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", "Platform admin"
    TENANT_MANAGER = "tenant_manager", "Tenant manager"
    TENANT_LEAD = "tenant_lead", "Team lead"
    EMPLOYEE = "employee", "Employee"


TENANT_ROLES = (Role.TENANT_MANAGER, Role.TENANT_LEAD, Role.EMPLOYEE)


class UserEmail(models.Model):
    """Who holds each login e-mail: the one place an e-mail is unique across tenants.

    The e-mail is the login, so it must be unique across every tenant; but `users` is distributed
    by tenant on Citus (docs/SCALING.md), where a unique index must include the tenant. So, as with
    `TenantSlug`, the global rule lives in this small table, kept as a reference table (a copy on
    every node, read locally), and `tenant_id` and `user_id` are plain columns, not foreign keys.

    Every write of a user's e-mail writes this row in the same transaction, before the user's row
    (so a second claim of the same e-mail waits on the key, then fails, before writing anything):
    `User.save()` for a new user or a changed e-mail, the user manager's `bulk_create`, and the
    people import's COPY (`people.imports`). `User.objects.update(email=…)` is refused. Deleting a
    user deletes its row (`UserQuerySet.delete`, `User.delete`). The key is the e-mail lower-cased,
    so two spellings of one address cannot both sign in. Reconcile checks both directions.
    """

    email = models.CharField(max_length=254, primary_key=True)
    tenant_id = models.UUIDField()
    user_id = models.UUIDField(unique=True)

    class Meta:
        db_table = "user_emails"

    def __str__(self) -> str:
        return f"{self.email} → {self.user_id}"


def email_key(email: str) -> str:
    """The `user_emails` key of an address: trimmed and lower-cased."""
    return (email or "").strip().lower()


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs):
        if "email" in kwargs:
            raise TypeError(
                "A user's e-mail changes through User.save() or tenants.services.user_update_identity, "
                "which move its row in user_emails."
            )
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        """The users' `user_emails` rows first, then the users, in one transaction."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise TypeError("Users are created once: bulk_create takes no conflict handling.")
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            UserEmail.objects.using(self.db).bulk_create(
                [UserEmail(email=email_key(u.email), tenant_id=u.tenant_id, user_id=u.pk) for u in objs],
                batch_size=kwargs.get("batch_size"),
            )
            return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            UserEmail.objects.using(self.db).filter(user_id__in=ids).delete()
            return super().delete()

    delete.alters_data = True


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        """The login: the e-mail found in `user_emails` (one row, a local read on every Citus node),
        then the user by `(tenant_id, id)`, routed to one shard."""
        held = UserEmail.objects.using(self._db).filter(email=email_key(username)).first()
        if held is None:
            raise self.model.DoesNotExist(f"No user with e-mail {username!r}.")
        return self.get(tenant_id=held.tenant_id, pk=held.user_id)

    def for_email(self, email: str) -> User | None:
        """The user holding this e-mail (any tenant, any spelling of its case), or None."""
        try:
            return self.get_by_natural_key(email)
        except self.model.DoesNotExist:
            return None

    def email_taken(self, email: str, *, exclude: User | None = None) -> bool:
        held = UserEmail.objects.using(self._db).filter(email=email_key(email))
        if exclude is not None:
            held = held.exclude(user_id=exclude.pk)
        return held.exists()

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        """Low-level creation. Product code calls `tenants.services.user_create`,
        which also opens the wallet and the lead budget."""
        if not email:
            raise ValueError("An email is required.")
        if fields.get("role") == Role.PLATFORM_ADMIN and fields.get("tenant") is None:
            fields.pop("tenant", None)
            fields["tenant_id"] = platform_tenant().pk
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True, role=Role.PLATFORM_ADMIN, tenant=None)
        return self.create_user(email, password, **fields)


class User(TenantRow, AbstractBaseUser, PermissionsMixin):
    """A person. Everyone but platform staff belongs to exactly one tenant; staff belong to no
    customer, and their rows sit in the platform's own tenant (PLATFORM_TENANT_ID) so that every
    user row has a tenant to be placed by. `member_tenant_id` is the customer (None for staff)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique across tenants through `UserEmail`; unique within the tenant here as well.
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)
    # Raised by every deactivation: it is part of the session hash, so each session opened
    # before stops at once and stays stopped after a reactivation (SPEC §11).
    auth_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        db_table = "users"
        ordering = ["full_name", "email"]
        indexes = [models.Index(fields=["tenant", "role", "is_active"], name="users_tenant_role_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="users_tenant_email_key"),
            # Platform staff sit in the platform's own tenant, and nobody else does.
            models.CheckConstraint(
                condition=(Q(role="platform_admin") & Q(tenant=PLATFORM_TENANT_ID))
                | (Q(role__in=[r.value for r in TENANT_ROLES]) & ~Q(tenant=PLATFORM_TENANT_ID)),
                name="user_role_matches_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._email_held = user.__dict__.get("email")
        return user

    def save(self, *args, **kwargs):
        """A new user, or a changed e-mail, writes its `user_emails` row first, in the same transaction."""
        update_fields = kwargs.get("update_fields")
        held = getattr(self, "_email_held", None)
        writes_email = "email" in self.__dict__ and (update_fields is None or "email" in update_fields)
        unchanged = not self._state.adding and held is not None and email_key(held) == email_key(self.email)
        if not writes_email or unchanged:
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        key = email_key(self.email)
        with transaction.atomic(using=using, savepoint=False):
            rows = UserEmail.objects.using(using)
            if self._state.adding or not rows.filter(user_id=self.pk).update(email=key, tenant_id=self.tenant_id):
                rows.create(email=key, tenant_id=self.tenant_id, user_id=self.pk)
            super().save(*args, **kwargs)
        self._email_held = self.email

    save.alters_data = True

    def delete(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            UserEmail.objects.using(using).filter(user_id=self.pk).delete()
            return super().delete(*args, **kwargs)

    delete.alters_data = True

    def _get_session_auth_hash(self, secret=None):
        """Django's HMAC of the password hash, with `auth_epoch` mixed in once it has moved, so the
        sessions opened before a deactivation never validate again (and those of users never
        deactivated are untouched by this field's arrival)."""
        if not self.auth_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "tenants.User.session_auth_hash", f"{self.password}|{self.auth_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()

    @property
    def is_platform_admin(self) -> bool:
        return self.is_active and (self.is_superuser or (self.role == Role.PLATFORM_ADMIN and self.is_staff))

    @property
    def member_tenant_id(self) -> uuid.UUID | None:
        """The customer this user belongs to; None for platform staff."""
        return None if self.tenant_id == PLATFORM_TENANT_ID else self.tenant_id

    @property
    def is_manager(self) -> bool:
        return self.member_tenant_id is not None and self.role == Role.TENANT_MANAGER

    @property
    def is_lead(self) -> bool:
        return self.member_tenant_id is not None and self.role == Role.TENANT_LEAD


class SettingsChangeLog(TenantRow, models.Model):
    """One changed programme setting (SPEC §9): who, when, which field, from what to what. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    # A manager, or a platform admin (the console): no constraint through (tenant_id, actor_id).
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "settings_change_logs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="settings_log_tenant_created")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"
