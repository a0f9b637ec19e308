"""The console's tenants and users. Every write goes through `tenants.services`
(and `points.services` for the pool); the pool balance is read-only everywhere."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import BigIntegerField, DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.html import format_html

from perksu.admin_base import LedgerAdmin, PlatformAdminMixin, ServiceErrorsMixin, run_for_each
from perksu.admin_site import console
from perksu.formatting import format_money, format_number
from points import admin_views
from points.models import LeadBudget
from wallets.models import Wallet

from .admin_settings import tenant_settings_view
from .forms_admin import FORMATTING_FIELDS, TENANT_CREATE_FIELDS, TenantForm, UserAddForm, UserChangeForm
from .models import SettingsChangeLog, Tenant, User
from .services import (
    SETTINGS_FIELDS,
    tenant_change_slug,
    tenant_create,
    tenant_set_status,
    tenant_settings_update,
    user_change_role,
    user_create,
    user_set_active,
    user_update_identity,
)


def _sum_per_tenant(model) -> Coalesce:
    per_tenant = (
        model.objects.filter(tenant=OuterRef("pk")).order_by().values("tenant").annotate(s=Sum("balance")).values("s")
    )
    return Coalesce(Subquery(per_tenant, output_field=BigIntegerField()), 0)


def with_outstanding(queryset):
    """Annotate each tenant with its delegated and wallet totals: two correlated
    subqueries in the list's one SELECT, however many tenants the page shows."""
    queryset = queryset.annotate(delegated_total=_sum_per_tenant(LeadBudget), wallets_total=_sum_per_tenant(Wallet))
    queryset = queryset.annotate(
        outstanding_total=F("points_allocation_balance") + F("delegated_total") + F("wallets_total")
    )
    return queryset.annotate(
        liability_total=ExpressionWrapper(
            F("outstanding_total") * F("point_value"), output_field=DecimalField(max_digits=30, decimal_places=4)
        )
    )


def _points(value: int | None, tenant: Tenant) -> str:
    return format_number(value or 0, locale=tenant.locale)


@admin.register(Tenant, site=console)
class TenantAdmin(ServiceErrorsMixin, PlatformAdminMixin, admin.ModelAdmin):
    form = TenantForm
    list_display = (
        "name",
        "slug",
        "status",
        "currency",
        "pool_balance",
        "delegated_outstanding",
        "wallets_outstanding",
        "liability_value",
    )
    list_filter = ("status", "currency")
    search_fields = ("name", "slug")
    actions = ["suspend", "reactivate"]
    change_form_template = "admin/perksu/tenant_change_form.html"
    readonly_fields = (
        "pool_balance",
        "delegated_outstanding",
        "wallets_outstanding",
        "liability_value",
        "created_at",
    )

    def get_queryset(self, request):
        return with_outstanding(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": TENANT_CREATE_FIELDS}), ("Formatting", {"fields": FORMATTING_FIELDS})]
        return [
            (None, {"fields": ("name", "slug", "status", "currency", "currency_label", "point_value")}),
            ("Rules", {"fields": ("low_balance_threshold", "max_award_points")}),
            ("Formatting", {"fields": FORMATTING_FIELDS}),
            (
                "Points (read-only: they move through Allocate points and Claw back)",
                {
                    "fields": (
                        "pool_balance",
                        "delegated_outstanding",
                        "wallets_outstanding",
                        "liability_value",
                        "created_at",
                    )
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        # The currency is the one the billing log was written in: fixed once the tenant exists.
        return (*self.readonly_fields, "currency") if obj is not None else self.readonly_fields

    @admin.display(description="Pool balance", ordering="points_allocation_balance")
    def pool_balance(self, obj: Tenant) -> str:
        return _points(obj.points_allocation_balance, obj)

    @admin.display(description="Delegated outstanding", ordering="delegated_total")
    def delegated_outstanding(self, obj: Tenant) -> str:
        return _points(obj.delegated_total, obj)

    @admin.display(description="Wallets outstanding", ordering="wallets_total")
    def wallets_outstanding(self, obj: Tenant) -> str:
        return _points(obj.wallets_total, obj)

    @admin.display(description="Liability value", ordering="liability_total")
    def liability_value(self, obj: Tenant) -> str:
        value = (Decimal(obj.outstanding_total) * obj.point_value).quantize(Decimal("0.01"))
        return format_money(value, obj.currency, locale=obj.locale)

    def save_model(self, request, obj, form, change):
        if not change:
            created = tenant_create(**{name: form.cleaned_data[name] for name in TENANT_CREATE_FIELDS})
            for field in Tenant._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding, obj._state.db = False, created._state.db
            formatting = {name: form.cleaned_data[name] for name in FORMATTING_FIELDS}
            Tenant.objects.filter(pk=obj.pk).update(**formatting)
            for name, value in formatting.items():
                setattr(obj, name, value)
            return
        # Programme settings (SPEC §9: the rules, time zone and locale on this form; all of them on the
        # tenant's settings page) go through the managers' service: validated and logged alike, in the
        # admin's transaction.
        settings = {name: form.cleaned_data[name] for name in form.changed_data if name in SETTINGS_FIELDS}
        if settings:
            tenant_settings_update(actor=request.user, tenant=obj, changes=settings)
        if "slug" in form.changed_data:
            tenant_change_slug(tenant=obj, slug=form.cleaned_data["slug"])
        # The other fields the form changed, with one UPDATE: saving the whole row
        # would write back the pool balance read when the page was opened.
        changed = [name for name in form.changed_data if name not in ("status", "slug") and name not in SETTINGS_FIELDS]
        if changed:
            Tenant.objects.filter(pk=obj.pk).update(**{name: form.cleaned_data[name] for name in changed})
        if "status" in form.changed_data:
            tenant_set_status(tenant=obj, status=form.cleaned_data["status"])

    def response_add(self, request, obj, post_url_continue=None):
        # A new tenant's next step is its first allocation: open its page, as Django does for users.
        if "_addanother" not in request.POST and IS_POPUP_VAR not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = 1
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Suspend selected tenants", permissions=["change"])
    def suspend(self, request, queryset):
        run_for_each(
            request,
            queryset,
            lambda tenant: tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED),
            done="Tenants suspended",
        )

    @admin.action(description="Reactivate selected tenants", permissions=["change"])
    def reactivate(self, request, queryset):
        run_for_each(
            request,
            queryset,
            lambda tenant: tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE),
            done="Tenants reactivated",
        )

    def get_urls(self):
        def view(movement):
            def pool_view(request, object_id):
                return admin_views.tenant_pool_view(self, request, object_id, movement)

            return self.admin_site.admin_view(pool_view)

        def settings_view(request, object_id):
            return tenant_settings_view(self, request, object_id)

        return [
            path(
                "<path:object_id>/settings/",
                self.admin_site.admin_view(settings_view),
                name="tenants_tenant_settings",
            ),
            path("<path:object_id>/allocate/", view(admin_views.ALLOCATE), name="tenants_tenant_allocate"),
            path("<path:object_id>/clawback/", view(admin_views.CLAWBACK), name="tenants_tenant_clawback"),
            *super().get_urls(),
        ]


@admin.register(SettingsChangeLog, site=console)
class SettingsChangeLogAdmin(LedgerAdmin):
    """Every change of a tenant's programme settings, by its managers or in the console (read-only)."""

    list_display = ("created_at", "tenant", "actor", "field", "old_value", "new_value")
    list_filter = ("field", "tenant")
    # The actor may be platform staff, in the platform's tenant: read apart by id, not joined (LedgerAdmin).
    list_select_related = ("tenant",)
    search_fields = ("field", "tenant__slug")
    people_apart = ("actor",)
    people_search_fields = ("actor__email",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("actor")

    csv_columns = [
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("actor", "actor.email"),
        ("field", "field"),
        ("old_value", "old_value"),
        ("new_value", "new_value"),
    ]


@admin.register(User, site=console)
class UserAdmin(ServiceErrorsMixin, PlatformAdminMixin, DjangoUserAdmin):
    """Users are created by `user_create` (wallet and lead budget included), change role by
    `user_change_role` and are deactivated by `user_set_active`; never deleted."""

    add_form = UserAddForm
    form = UserChangeForm
    add_form_template = None
    list_display = ("email", "full_name", "tenant", "role", "is_active", "is_staff", "wallet_link")
    list_filter = ("role", "is_active", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("email", "full_name", "tenant__name", "tenant__slug")
    ordering = ("email",)
    filter_horizontal = ()
    actions = ["deactivate", "reactivate"]
    add_fieldsets = [
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "tenant", "role", "password1", "password2")})
    ]
    fieldsets = [
        (None, {"fields": ("email", "full_name", "password")}),
        ("Tenant and role", {"fields": ("tenant", "role", "is_active")}),
        ("Platform", {"fields": ("is_staff", "is_superuser", "last_login", "date_joined")}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ["tenant", "is_staff", "is_superuser", "last_login", "date_joined"]
        if obj.member_tenant_id is None:
            fixed.append("role")  # platform staff have no tenant role to change to
        return fixed

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("wallets")

    @admin.display(description="Wallet")
    def wallet_link(self, obj: User) -> str:
        wallet = next(iter(obj.wallets.all()), None) if obj.member_tenant_id else None
        if wallet is None:
            return "—"
        url = reverse("admin:wallets_wallet_change", args=[wallet.pk], current_app=self.admin_site.name)
        locale = obj.tenant.locale if obj.member_tenant_id else None
        return format_html('<a href="{}">{}</a>', url, format_number(wallet.balance, locale=locale))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = user_create(
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                tenant=data.get("tenant"),
                password=data.get("password1") or None,
            )
            if created.member_tenant_id and not data.get("password1"):
                # No password: the member sets one from an invitation e-mail (people.emails).
                from people.emails import send_invitation

                base_url = request.build_absolute_uri("/")
                transaction.on_commit(lambda: send_invitation(user=created, invited_by=request.user, base_url=base_url))
            for field in User._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding, obj._state.db = False, created._state.db
            return
        current = User.objects.get(pk=obj.pk)
        plain = {name: data[name] for name in ("email", "full_name") if name in form.changed_data}
        if plain:
            user_update_identity(user=current, **plain)
        if "role" in form.changed_data:
            user_change_role(user=current, role=data["role"], actor=request.user)
        if "is_active" in form.changed_data:
            _set_active(current, data["is_active"], request.user)

    def save_related(self, request, form, formsets, change):
        """No groups or permission rows: console access follows the role."""

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request, queryset):
        run_for_each(
            request,
            queryset,
            lambda user: _set_active(user, False, request.user),
            done="Users deactivated",
        )

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate(self, request, queryset):
        run_for_each(
            request,
            queryset,
            lambda user: _set_active(user, True, request.user),
            done="Users reactivated",
        )


def _set_active(user: User, is_active: bool, actor: User) -> None:
    """A tenant member through people's service (leaver clock, tokens); platform staff directly."""
    if user.member_tenant_id:
        from people.services import member_set_active

        member_set_active(user=user, is_active=is_active, actor=actor)
    else:
        user_set_active(user=user, is_active=is_active, actor=actor)
