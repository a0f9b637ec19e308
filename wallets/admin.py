"""The console's employee side: wallets, their ledger, the reward catalog, redemptions.

Wallets, the ledger and redemptions are read-only. Refunds are left to the
tenant's managers (`wallets.services.redemption_refund` requires a manager, and
a refund is the tenant's decision), so the console has no refund action.

The reward catalog is edited here with the ORM rather than through
`wallets.services.reward_create`/`reward_update`, which require a tenant
manager: the form validates the same rules (the model's CHECK constraints), a
new reward is one INSERT, and a change writes only the fields the form changed,
with one UPDATE, so it never writes back a stock figure a concurrent
redemption has just moved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from perksu.admin_base import LedgerAdmin, PlatformAdminMixin
from perksu.admin_site import console
from points.forms_admin import PointsAmountField

from .models import Redemption, Reward, Wallet, WalletLedger


@admin.register(Wallet, site=console)
class WalletAdmin(LedgerAdmin):
    date_hierarchy = None
    list_display = ("user", "tenant", "balance", "lifetime_earned", "lifetime_spent", "last_entry_no")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "user")
    search_fields = ("user__email", "user__full_name", "tenant__name", "tenant__slug")
    csv_columns = [
        ("id", "id"),
        ("tenant", "tenant.slug"),
        ("user", "user.email"),
        ("balance", "balance"),
        ("lifetime_earned", "lifetime_earned"),
        ("lifetime_spent", "lifetime_spent"),
        ("entries", "last_entry_no"),
    ]


@admin.register(WalletLedger, site=console)
class WalletLedgerAdmin(LedgerAdmin):
    list_display = (
        "created_at",
        "tenant",
        "wallet_owner",
        "entry_no",
        "entry_type",
        "source",
        "amount",
        "balance_after",
    )
    list_filter = ("entry_type", "source", "tenant")
    list_select_related = ("tenant", "wallet__user", "actor")
    search_fields = ("note", "wallet__user__email", "wallet__user__full_name", "tenant__slug")
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("wallet_owner", "wallet.user.email"),
        ("entry_no", "entry_no"),
        ("entry_type", "entry_type"),
        ("source", "source"),
        ("amount", "amount"),
        ("balance_after", "balance_after"),
        ("actor", "actor.email"),
        ("recognition_id", "recognition_id"),
        ("redemption_id", "redemption_id"),
        ("note", "note"),
    ]

    @admin.display(description="Wallet owner", ordering="wallet__user__email")
    def wallet_owner(self, obj: WalletLedger) -> str:
        return str(obj.wallet.user)


@admin.register(Redemption, site=console)
class RedemptionAdmin(LedgerAdmin):
    list_display = ("created_at", "tenant", "user", "reward", "points_spent", "status", "voucher_code", "refunded_at")
    list_filter = ("status", "tenant")
    list_select_related = ("tenant", "user", "reward")
    search_fields = ("voucher_code", "user__email", "user__full_name", "reward__name", "tenant__slug")
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("user", "user.email"),
        ("reward", "reward.name"),
        ("points_spent", "points_spent"),
        ("status", "status"),
        ("voucher_code", "voucher_code"),
        ("refunded_at", "refunded_at"),
    ]


class RewardForm(forms.ModelForm):
    points_cost = PointsAmountField(label="Points cost")

    class Meta:
        model = Reward
        fields = ("tenant", "name", "description", "points_cost", "stock", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "stock" in self.fields:
            # Compare the stock against what the page showed, not against the row now:
            # a redemption since then must not make an untouched field look "changed".
            self.fields["stock"].show_hidden_initial = True


@admin.register(Reward, site=console)
class RewardAdmin(PlatformAdminMixin, admin.ModelAdmin):
    form = RewardForm
    list_display = ("name", "tenant", "points_cost", "stock_display", "is_active")
    list_filter = ("is_active", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name", "description", "tenant__name", "tenant__slug")
    fields = ("tenant", "name", "description", "points_cost", "stock", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("tenant",) if obj is not None else ()

    @admin.display(description="Stock", ordering="stock")
    def stock_display(self, obj: Reward) -> str:
        return "unlimited" if obj.stock is None else f"{obj.stock:,}"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save(force_insert=True)
            return
        changed = [name for name in form.changed_data if name != "tenant"]
        if changed:
            values = {name: form.cleaned_data[name] for name in changed}
            Reward.objects.filter(tenant_id=obj.tenant_id, pk=obj.pk).update(**values)
